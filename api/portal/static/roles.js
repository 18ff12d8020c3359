// The institution's and operator's additions to portal.js (loaded after it).
//
// A data request (`data-prepare="dataRequest"`): the nonce and deadline are chosen here, and
// the nonce kept on the form, so that once the platform answers, the answer and the nonce go
// to the form's `data-check-url`, which checks the receipt against the access trail and the
// chain and sends back the released data with each check; it is shown in `[data-answer]`.
"use strict";

(() => {
  if (window.PortalRoles) return; // loaded once, whatever htmx swaps
  window.PortalRoles = true;

  const csrf = () => {
    const headers = document.getElementById("page").getAttribute("hx-headers");
    return Object.values(JSON.parse(headers))[0];
  };

  Portal.prepare.dataRequest = (values, form) => {
    values.nonce = ethers.hexlify(ethers.randomBytes(32));
    values.deadline = Math.floor(Date.now() / 1000) + Number(form.dataset.lifetime || 120);
    form.dataset.nonce = values.nonce;
    return values;
  };

  document.addEventListener("ledger:signed", async (event) => {
    const form = event.target;
    if (!form.dataset || !form.dataset.checkUrl || !event.detail.ok) return;
    const region = document.getElementById(form.dataset.answerIn);
    const response = await fetch(form.dataset.checkUrl, {
      method: "POST",
      headers: { "X-CSRF-Token": csrf(), "Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true" },
      body: new URLSearchParams({ answer: event.detail.text, nonce: form.dataset.nonce }),
    });
    region.innerHTML = await response.text();
    htmx.process(region); // its "check again" form
  });
})();

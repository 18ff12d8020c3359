// The operator's acts on the catalogue and on enterprises (portal.js's `data-prepare` hooks,
// loaded after it; acts.js shows a refusal in words). Every act is signed here, in the browser:
//
// - a catalogue version (`prepare.publishCatalogue`): the platform has checked the uploaded
//   file against the version in force and sent back its RFC 8785 form; this page hashes that
//   text itself (SHA-256), signs `PublishCatalogue` (version, content hash, the public-disclosure
//   categories' mask, operator, nonce from GET /catalogue/signing/{address}, deadline) in the
//   CatalogueRegistry's domain, and sends the document with it to POST /catalogue/versions;
// - an enterprise's registration, suspension or reinstatement (`prepare.registerEnterprise`,
//   `prepare.enterpriseStatus`): its 统一社会信用代码 is checked by the platform first
//   (GET /portal/operator/enterprises/check, the position at fault named); a refused code
//   stops the act before anything is signed. The act itself is portal.js's generic one.
"use strict";

(() => {
  if (window.PortalOperator) return; // loaded once, whatever htmx swaps
  window.PortalOperator = true;

  const prepare = window.Portal.prepare;

  prepare.publishCatalogue = async (values, form) => {
    const canonical = values.canonical;
    const catalogue = JSON.parse(canonical);
    const s = await Portal.spec();
    const t = Portal.thing(s, "PublishCatalogue");
    const wallet = await Portal.unlock();
    const got = await Portal.send("GET", `/catalogue/signing/${wallet.address}`);
    if (!got.ok) throw new Error(`/catalogue/signing: ${got.status}`);
    const deadline = Math.floor(Date.now() / 1000) + 600;
    const message = {
      version: BigInt(catalogue.version),
      contentHash: ethers.sha256(ethers.toUtf8Bytes(canonical)),
      publicCategories: BigInt(form.dataset.publicMask),
      operator: wallet.address,
      nonce: BigInt(got.body.nonce),
      deadline: BigInt(deadline),
    };
    const signature = await wallet.signTypedData(s.domains[t.domain].domain, t.types, message);
    return {
      catalogue,
      content_hash: message.contentHash,
      public_categories: form.dataset.publicMask,
      operator: wallet.address,
      nonce: String(got.body.nonce),
      deadline: String(deadline),
      signature,
    };
  };

  // The platform's verdict on the code, shown in the form's [data-uscc-check]; refused: no act.
  async function checked(values, form) {
    const region = form.querySelector("[data-uscc-check]");
    const response = await fetch(`/portal/operator/enterprises/check?uscc=${encodeURIComponent(values.uscc || "")}`, {
      headers: { "HX-Request": "true" },
    });
    region.innerHTML = await response.text();
    const verdict = region.querySelector("[data-uscc]");
    if (!response.ok || !verdict) throw new Error(String(response.status));
    if (verdict.dataset.uscc !== "ok") throw new Error(verdict.textContent.trim());
    return verdict.dataset.code;
  }

  prepare.registerEnterprise = async (values, form) => {
    values.uscc = await checked(values, form);
    values.account = (values.account || "").trim();
    values.name = (values.name || "").trim();
    return values;
  };

  prepare.enterpriseStatus = async (values, form) => {
    values.uscc = await checked(values, form);
    form.dataset.type = values.action === "reinstate" ? "ReinstateEnterprise" : "SuspendEnterprise";
    return { uscc: values.uscc };
  };
})();

// The portal's one script. The member's key never leaves this page: the keystore (Web3
// secret-storage v3, as `credit-ledger keys create` writes it) is opened here with ethers,
// kept encrypted in sessionStorage and decrypted in memory only; every signature is made
// here, from the signing specification the platform publishes (GET /signing), the way
// tests/js/client.mjs does. Nothing sent to the platform holds the keystore or the key.
//
// Forms declare what they sign (see /work notes and README "Portal"):
//   <form data-sign="act" data-type="Grant">     an act: typed body signed, sent as a signed API request
//   <form data-sign="api" data-method="POST" data-path="/objections">  a signed API request, plain JSON body
//   <form data-sign="body" data-type="DataRequest">  a typed body that is its own authentication
// Values: each named input; checkboxes with data-bits are OR-ed into one uint (decimal
// string); a checkbox with data-bool is true/false; `data-prepare="name"` runs
// Portal.prepare[name](values, form) first. After an answer the form receives a
// `ledger:signed` event (detail: {ok, status, body, text}); on success the body receives
// `ledger:changed`, which regions with hx-trigger="ledger:changed from:body" reload on.
"use strict";

(() => {
  const KEYSTORE = "ledger.keystore";
  const state = { wallet: null, spec: null };

  const $ = (selector, root = document) => root.querySelector(selector);
  // the page's sentences in the reader's language, from #page's data-msg-* attributes
  const text = (key) => {
    const page = document.getElementById("page");
    return (page && page.dataset[key]) || key;
  };

  function say(message, kind = "info", where = $("#status")) {
    if (!where) return;
    where.textContent = message;
    where.dataset.kind = kind;
  }

  async function spec() {
    if (!state.spec) state.spec = await (await fetch("/signing")).json();
    return state.spec;
  }
  const thing = (s, primaryType) => s.signed.find((t) => t.primaryType === primaryType);
  const domainOf = (s, t) => s.domains[t.domain].domain;
  const dig = (object, dotted) => dotted.split(".").reduce((v, k) => v[k], object);

  function transform(field, value) {
    switch (field.transform) {
      case "as_is":
        return field.type.startsWith("uint") ? BigInt(value) : value;
      case "decimal":
        return BigInt(value);
      case "upper":
        return value.toUpperCase();
      case "keccak256_utf8":
        return ethers.keccak256(ethers.toUtf8Bytes(value));
      case "keccak256_bytes":
        return ethers.keccak256(value);
      case "enum":
        return BigInt(field.enum[value]);
      case "raw_path_and_query":
        return value;
      default:
        throw new Error(`unknown transform ${field.transform}`);
    }
  }

  function messageOf(t, context) {
    const message = {};
    for (const field of t.fields) message[field.name] = transform(field, dig(context[field.from], field.field));
    return message;
  }

  function wire(t, values) {
    const body = {};
    for (const field of t.fields.filter((f) => f.from === "body")) {
      const value = values[field.field];
      if (value === undefined) throw new Error(`${t.primaryType}: ${field.field} is missing`);
      // a uint carried as a number travels as a decimal string; an enum travels as its name
      body[field.field] = field.type.startsWith("uint") && field.transform === "as_is" ? BigInt(value).toString() : value;
    }
    return body;
  }

  // -- the key -------------------------------------------------------------------------------

  async function open(keystoreText, password) {
    const wallet = await ethers.Wallet.fromEncryptedJson(keystoreText, password);
    sessionStorage.setItem(KEYSTORE, keystoreText); // still encrypted: the password is never kept
    state.wallet = wallet;
    return wallet;
  }

  // The wallet, opened in memory; asks for the password (and the file, if none is kept) when needed.
  function unlock() {
    if (state.wallet) return Promise.resolve(state.wallet);
    const dialog = $("#unlock");
    const form = $("form", dialog);
    const kept = sessionStorage.getItem(KEYSTORE);
    $("[data-keystore-file]", dialog).hidden = Boolean(kept);
    form.reset();
    say("", "info", $("[data-unlock-status]", dialog));
    dialog.showModal();
    return new Promise((resolve, reject) => {
      form.onsubmit = async (event) => {
        event.preventDefault();
        try {
          const file = $("input[type=file]", form).files[0];
          const keystoreText = kept || (file ? await file.text() : "");
          say(text("msgOpening"), "info", $("[data-unlock-status]", dialog));
          resolve(await open(keystoreText, $("input[type=password]", form).value));
          dialog.close();
        } catch (error) {
          say(`${text("msgCannotOpen")} ${error.message}`, "error", $("[data-unlock-status]", dialog));
        }
      };
      dialog.oncancel = () => reject(new Error(text("msgCancelled")));
    });
  }

  // -- signed requests -----------------------------------------------------------------------

  async function send(method, path, body) {
    const s = await spec();
    const wallet = await unlock();
    const api = thing(s, "ApiRequest");
    const bytes = body === undefined ? new Uint8Array() : ethers.toUtf8Bytes(JSON.stringify(body));
    const headerOf = (name) => api.fields.find((f) => f.name === name).field;
    const headers = {
      [headerOf("timestamp")]: String(Math.floor(Date.now() / 1000)),
      [headerOf("nonce")]: ethers.hexlify(ethers.randomBytes(api.nonce_from.random_bytes)),
    };
    const message = messageOf(api, { request: { method, path, body: bytes }, header: headers });
    headers[api.signature.signer_field] = wallet.address;
    headers[api.signature.field] = await wallet.signTypedData(domainOf(s, api), api.types, message);
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : bytes });
    return answer(response);
  }

  async function answer(response) {
    const raw = await response.text();
    let body = null;
    try {
      body = JSON.parse(raw);
    } catch {
      body = null;
    }
    return { ok: response.ok, status: response.status, body, text: raw };
  }

  async function nonceFor(s, t, wallet) {
    const from = t.nonce_from;
    const got = await send(from.method, from.path.replace("{address}", wallet.address));
    if (!got.ok) throw new Error(`${from.path}: ${got.status}`);
    return dig(got.body, from.field);
  }

  async function signed(primaryType, values) {
    const s = await spec();
    const t = thing(s, primaryType);
    const wallet = await unlock();
    const filled = { ...values };
    for (const field of t.fields.filter((f) => f.from === "body")) {
      if (filled[field.field] !== undefined && filled[field.field] !== "") continue;
      if (field.field === "nonce") {
        filled.nonce = t.nonce_from.random_bytes
          ? ethers.hexlify(ethers.randomBytes(t.nonce_from.random_bytes))
          : await nonceFor(s, t, wallet);
      } else if (field.field === "deadline") filled.deadline = Math.floor(Date.now() / 1000) + 600;
      else if (field.type === "address") filled[field.field] = wallet.address;
    }
    const body = wire(t, filled);
    // a field carried in the path (Approve's id: /governance/proposals/{proposal_id}/approvals)
    const message = messageOf(t, { body, path: values });
    body[t.signature.field] = await wallet.signTypedData(domainOf(s, t), t.types, message);
    return { t, body };
  }

  // An act: its typed body signed by the member, sent as a signed API request to its route.
  async function act(primaryType, values) {
    const { t, body } = await signed(primaryType, values);
    const path = t.endpoint.path.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(values[name]));
    return send(t.endpoint.method, path, body);
  }

  // A typed body that is its own authentication (a data or evaluation request).
  async function request(primaryType, values) {
    const { t, body } = await signed(primaryType, values);
    const response = await fetch(t.endpoint.path, {
      method: t.endpoint.method,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return answer(response);
  }

  // -- forms -----------------------------------------------------------------------------------

  function valuesOf(form) {
    const values = {};
    for (const input of form.elements) {
      if (!input.name || input.disabled || input.type === "submit") continue;
      if (input.type === "checkbox" && input.dataset.bits !== undefined) {
        const sum = BigInt(values[input.name] || 0) | (input.checked ? BigInt(input.value) : 0n);
        values[input.name] = sum.toString();
      } else if (input.type === "checkbox" && input.dataset.bool !== undefined) {
        values[input.name] = input.checked;
      } else if (input.type === "radio") {
        if (input.checked) values[input.name] = input.value;
      } else if (input.value !== "") {
        values[input.name] = input.value;
      }
    }
    return values;
  }

  const prepare = {};

  async function submitSigned(form) {
    const result = $("[data-result]", form) || $("#status");
    const button = $("button[type=submit], button:not([type])", form);
    if (button) button.disabled = true;
    try {
      let values = valuesOf(form);
      if (form.dataset.prepare) values = (await prepare[form.dataset.prepare](values, form)) || values;
      say(text("msgSigning"), "info", result);
      let got;
      if (form.dataset.sign === "act") got = await act(form.dataset.type, values);
      else if (form.dataset.sign === "body") got = await request(form.dataset.type, values);
      else got = await send(form.dataset.method || "POST", form.dataset.path, values);
      const detail = got.body && got.body.detail;
      say(got.ok ? text("msgDone") : `${text("msgRefused")} ${got.status} ${detail || ""}`, got.ok ? "ok" : "error", result);
      form.dispatchEvent(new CustomEvent("ledger:signed", { detail: got, bubbles: true }));
      if (got.ok) document.body.dispatchEvent(new CustomEvent("ledger:changed"));
    } catch (error) {
      say(`${text("msgRefused")} ${error.message}`, "error", result);
    } finally {
      if (button) button.disabled = false;
    }
  }

  // Capture phase: a signed form is never submitted as a form (nor boosted by htmx), so no
  // field of it, the password above all, can leave in a URL or a body.
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (!form.dataset) return;
      if (form.dataset.sign) {
        event.preventDefault();
        event.stopPropagation();
        submitSigned(form);
      } else if (form.matches("form[data-signin]")) {
        event.preventDefault();
        event.stopPropagation();
        signIn(form);
      }
    },
    true,
  );

  // -- sign-in ---------------------------------------------------------------------------------

  async function signIn(form) {
    const result = $("[data-result]", form);
    try {
      const file = $("input[type=file]", form).files[0];
      if (!file) throw new Error(text("msgChooseFile"));
      say(text("msgOpening"), "info", result);
      const wallet = await open(await file.text(), $("input[type=password]", form).value);
      const challenge = await (
        await fetch(`/portal/signin/challenge?address=${encodeURIComponent(wallet.address)}`)
      ).json();
      const signature = await wallet.signMessage(challenge.message);
      const response = await fetch("/portal/signin", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ message: challenge.message, signature, subject: $("input[name=subject]", form).value || null }),
      });
      const got = await answer(response);
      if (!got.ok) throw new Error(`${got.status} ${got.body ? got.body.detail : ""}`);
      say(text("msgDone"), "ok", result);
      const next = form.dataset.next || got.body.next;
      if (window.htmx) htmx.ajax("GET", next, { target: "body", swap: "innerHTML" }).then(() => history.pushState({}, "", next));
      else location.assign(next);
    } catch (error) {
      say(`${text("msgCannotSignIn")} ${error.message}`, "error", result);
    }
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("[data-forget-key]");
    if (button) {
      state.wallet = null;
      sessionStorage.removeItem(KEYSTORE);
    }
  });

  window.Portal = { unlock, send, act, request, prepare, spec, thing, say, valuesOf };
})();

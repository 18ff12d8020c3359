// The operator's and the institution's acts (portal.js's `data-prepare` hooks, loaded after it),
// and the API's refusals in words. Every act is still signed here, in the browser:
//
// - a proposal (`prepare.proposal`): the Propose act's fields from the form; the registered
//   name travels only as its keccak-256 (the chain keeps the hash);
// - a model version (`prepare.modelVersion`): its document and card stored by the platform
//   (POST /models/documents), then the ProposeModel act over the hashes it answered;
// - a calendar day (`prepare.calendarDay`): the day goes in the path of PUT /calendar/days/{day};
// - a loan product (`prepare.publish`): the platform has checked the document and sent back its
//   RFC 8785 form; this page hashes that text itself (SHA-256), signs the `Publish` act over the
//   hash (GET /signing's Publish, nonce from GET /members/{address}) and sends the document with
//   it to POST /financing/publications as a signed API request;
// - a loan report (`prepare.loanReport`): the JSON of POST /loans/reports, typed as it expects.
//
// When the API refuses an act, the page's hidden `[data-refusal-words]` (roles/acts.html) holds
// the refusal in the reader's language by its code (`contract_error`, else `error`, else the
// HTTP status): it is shown with the API's own detail, which names the field at fault.
"use strict";

(() => {
  if (window.PortalActs) return; // loaded once, whatever htmx swaps
  window.PortalActs = true;

  const prepare = window.Portal.prepare;
  const ZERO_ADDRESS = `0x${"00".repeat(20)}`;
  const ZERO_HASH = `0x${"00".repeat(32)}`;
  const page = (key) => {
    const element = document.getElementById("page");
    return (element && element.dataset[key]) || "";
  };
  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, name) => String(values[name]));

  prepare.proposal = (values) => {
    const admit = values.action === "admit";
    const quorum = values.action === "set_quorum";
    const name = (values.name || "").trim();
    return {
      action: values.action,
      account: quorum ? ZERO_ADDRESS : (values.account || "").trim(),
      role: admit ? values.role : "none",
      kind: admit && values.role === "institution" ? values.kind : "none",
      name_hash: admit && name ? ethers.keccak256(ethers.toUtf8Bytes(name)) : ZERO_HASH,
      new_quorum: quorum ? String(values.new_quorum || "0") : "0",
    };
  };

  // a model version: its document and card are stored first (checked, hashed by the platform,
  // as `credit-ledger model propose` does), then the proposal of those hashes is signed here
  prepare.modelVersion = async (values, form) => {
    const read = async (selector) => JSON.parse(await form.querySelector(selector).files[0].text());
    const got = await Portal.send("POST", "/models/documents", { model: await read("[data-model-file]"), card: await read("[data-card-file]") });
    if (!got.ok) throw new Error(`${got.status} ${(got.body && (got.body.error || "")) || ""} ${problemsOf(got.body)}`);
    const stored = got.body;
    return {
      model_hash: stored.model_hash,
      card_hash: stored.card_hash,
      indicator_version: String(stored.indicator_version),
      input_categories: String(stored.input_categories),
    };
  };

  prepare.calendarDay = (values, form) => {
    form.dataset.path = `/calendar/days/${encodeURIComponent(values.day || "")}`;
    return { kind: values.kind, name: values.name };
  };

  prepare.publish = async (values) => {
    const canonical = values.canonical;
    const document_ = JSON.parse(canonical);
    const s = await Portal.spec();
    const t = Portal.thing(s, "Publish");
    const wallet = await Portal.unlock();
    const from = t.nonce_from;
    const got = await Portal.send(from.method, from.path.replace("{address}", wallet.address));
    if (!got.ok) throw new Error(`${from.path}: ${got.status}`);
    const nonce = from.field.split(".").reduce((v, k) => v[k], got.body);
    const deadline = Math.floor(Date.now() / 1000) + 600;
    const contentHash = ethers.sha256(ethers.toUtf8Bytes(canonical));
    const seconds = (iso) => (iso ? BigInt(Math.floor(Date.parse(iso) / 1000)) : 0n);
    const kind = "loan_product";
    const message = {
      kind: BigInt(t.fields.find((f) => f.name === "kind").enum[kind]),
      documentId: ethers.keccak256(ethers.toUtf8Bytes(`${kind}:${document_.key}`)),
      version: BigInt(document_.version),
      contentHash,
      validFrom: seconds(document_.valid_from),
      validUntil: seconds(document_.valid_until),
      publisher: wallet.address,
      nonce: BigInt(nonce),
      deadline: BigInt(deadline),
    };
    const signature = await wallet.signTypedData(s.domains[t.domain].domain, t.types, message);
    return { kind, document: document_, content_hash: contentHash, nonce: String(nonce), deadline: String(deadline), signature };
  };

  prepare.loanReport = (values) => {
    const report = {
      idempotency_key: values.idempotency_key,
      loan_ref: values.loan_ref,
      kind: values.kind,
      subject: values.subject,
      agreement_id: Number(values.agreement_id),
    };
    if (values.kind === "repayment") {
      report.as_of = values.as_of;
      report.days_overdue = Number(values.days_overdue || 0);
      return report;
    }
    Object.assign(report, {
      outcome: values.outcome,
      applied_on: values.applied_on,
      decided_on: values.decided_on,
      guarantee: values.guarantee,
      first_loan: values.first_loan === true,
      industry: values.industry,
    });
    for (const name of ["amount", "annual_rate"]) if (values[name] !== undefined) report[name] = values[name];
    if (values.term_months !== undefined) report.term_months = Number(values.term_months);
    return report;
  };

  // -- answers -------------------------------------------------------------------------------

  function wordsFor(code) {
    if (!code) return "";
    const found = [...document.querySelectorAll("[data-refusal-words] [data-code]")].find((e) => e.dataset.code === code);
    return found ? found.textContent : "";
  }

  function problemsOf(body) {
    if (!body) return "";
    const list = Array.isArray(body.errors) ? body.errors : Array.isArray(body.detail) ? body.detail : null;
    if (list) return list.map((p) => `${p.field}: ${p.message || p.rule}`).join("; ");
    return typeof body.detail === "string" ? body.detail : "";
  }

  document.addEventListener("ledger:signed", (event) => {
    const form = event.target;
    const got = event.detail;
    if (!form.dataset) return;
    const result = form.querySelector("[data-result]") || document.getElementById("status");
    if (!got.ok) {
      const code = (got.body && (got.body.contract_error || got.body.error)) || "";
      const words = wordsFor(code) || wordsFor(`status-${got.status}`);
      if (!words) return; // a page without the words keeps portal.js's message
      result.textContent = `${page("msgRefused")} ${words} (${got.status}${code ? ` ${code}` : ""}) ${problemsOf(got.body)}`;
      result.dataset.kind = "error";
      result.dataset.refusal = code || String(got.status);
      return;
    }
    result.dataset.refusal = "";
    const said = form.dataset.msgProposed && got.body && got.body.proposal_id !== undefined;
    if (said) {
      const values = { id: got.body.proposal_id, approvals: got.body.approvals, quorum: form.dataset.quorum };
      result.textContent = fill(got.body.executed ? form.dataset.msgExecuted : form.dataset.msgProposed, values);
    } else if (form.dataset.msgCreated && got.body && got.body.created_id !== undefined) {
      result.textContent = fill(form.dataset.msgCreated, { id: got.body.created_id });
    } else if (form.dataset.msgReported && got.body && got.body.version !== undefined) {
      result.textContent = fill(got.body.replayed ? form.dataset.msgReplayed : form.dataset.msgReported, got.body);
    }
  });
})();

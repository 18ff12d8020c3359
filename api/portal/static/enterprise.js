// The enterprise's forms: the values each act needs that a form cannot hold as typed
// (portal.js's `data-prepare` hooks). Loaded on every page (api/portal/templates/base.html).
"use strict";

(() => {
  const prepare = window.Portal.prepare;

  // a grant: the USCC's hash (the Grant type's usccHash), the expiry from a number of days
  prepare.grant = (values) => ({
    ...values,
    uscc_hash: ethers.keccak256(ethers.toUtf8Bytes(values.uscc)),
    expires_at: Math.floor(Date.now() / 1000) + Number(values.days) * 86400,
    raw_categories: (BigInt(values.raw_categories || 0) & BigInt(values.categories || 0)).toString(),
  });

  // an objection: reasons in words; evidence (document hashes) none from this form
  prepare.objection = (values) => ({ record_id: values.record_id, reasons: values.reasons, evidence: [] });

  // a declaration: its fields as the catalogue's self_declared category names them
  prepare.declaration = (values) => ({
    subject: values.subject,
    source_ref: values.source_ref,
    commitment_id: Number(values.commitment_id),
    event_date: values.declared_on,
    fields: {
      declaration_type: values.declaration_type,
      title: values.title,
      description: values.description || "",
      declared_on: values.declared_on,
      credit_commitment_signed: true,
    },
  });
})();

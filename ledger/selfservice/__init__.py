"""Enterprise self-service: consent listings, free self-query, self-declared information,
objections (异议申诉), credit repair (信用修复), the working-day calendar and notices.

Modules:

* `clock`, `workdays` — pure rules of time and working days (the publicity periods and
  the case states the release path reads are in `ledger.domain.publicity` and
  `ledger.domain.cases`);
* `models` — the tables;
* `consents`, `selfquery`, `declarations`, `objections`, `repairs`, `calendar`,
  `notices` — the use cases, one module each, none of them knowing about HTTP;
* `errors` — every refusal, named after the rule it enforces;
* `cases` — the one deadline-bound case workflow; objections and credit repair are its
  two kinds (`objections.OBJECTIONS`, `repairs.REPAIRS`), each module adding its own acts.

State changes of objections and repair applications, and the link between a
self-declared record and its truthfulness commitment, are leaves of the credit-record
log (`leaves`), appended in the same transaction as the change.
"""

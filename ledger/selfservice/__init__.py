"""Enterprise self-service: consent listings, free self-query, self-declared information,
objections (异议申诉), credit repair (信用修复), the working-day calendar and notices.

Modules:

* `clock`, `workdays`, `publicity` — pure rules (time, working days, publicity periods);
* `models` — the tables; `flags` — what the release path asks (disputed, repaired);
* `consents`, `selfquery`, `declarations`, `objections`, `repairs`, `calendar`,
  `notices` — the use cases, one module each, none of them knowing about HTTP;
* `errors` — every refusal, named after the rule it enforces;
* `cases` — the one deadline-bound case workflow; objections and credit repair are its
  two kinds (`objections.OBJECTIONS`, `repairs.REPAIRS`), each module adding its own acts.

State changes of objections and repair applications, and the link between a
self-declared record and its truthfulness commitment, are leaves of the credit-record
log (`leaves`), appended in the same transaction as the change.
"""

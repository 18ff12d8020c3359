"""Evaluation as a release: the credit score and portrait computed inside the platform from
the records an institution is authorized for, under the on-chain check and the access trail
of a release (system shape, promise 10)."""

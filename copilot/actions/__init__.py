"""Actions on connected systems: lookups, proposals, guardrails, approvals, execution and the audit log."""

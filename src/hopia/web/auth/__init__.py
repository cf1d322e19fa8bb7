"""Login, logout and the session cookie (local accounts; OIDC comes next, beside them)."""

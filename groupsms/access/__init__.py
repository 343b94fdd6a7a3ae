"""Who may see and do what: Casbin role permissions plus SQL scopes for data-dependent rules."""

"""Who may see and do what: Casbin role permissions (`policy`), SQL scopes for the data-dependent
rules (`scopes`), one object inside the user's reach (`fetch`), who may send in a group right now
(`sending`), and the search clauses added to what the scopes return (`search`)."""

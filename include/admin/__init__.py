"""The admin layer: the connection lifecycle as small operations (`include.admin.operations`),
credits, the Airflow REST adapter, tokens and the sync status of a connection. No HTTP: domain
errors (`include.admin.errors`) carry no status codes; the API maps their types to codes.

May import the model, config, store and sync layers; never `include.api` (one temporary
exception: `include.admin.tokens` reaches the token SQL through `include.api.auth` until the
store holds it)."""

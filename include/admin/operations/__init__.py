"""One module per lifecycle operation; each is a function of an `AdminContext`
(include/admin/base.py). `include.admin.lifecycle.Lifecycle` bundles them for the API and CLI."""

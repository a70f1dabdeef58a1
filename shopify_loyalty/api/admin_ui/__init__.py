"""The merchant's admin pages (``/app``): an HTML shell and its ES modules, and the
standalone sign-in of self-hosted shops. The pages call the admin API (``/api/admin``) like
any other client, so they share its validation and error messages."""

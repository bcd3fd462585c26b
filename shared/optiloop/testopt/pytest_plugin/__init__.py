"""The pytest plugin: `@optiloop.parametrize` draws a test's cases from OptiLoop and the session
reports their outcomes back with runs:ingest.

`plugin` holds the hooks (registered as the `optiloop` pytest11 entry point), `decorator` the
mark, `client` the four HTTP calls it makes, `recorder` the outcome -> run folding, `fallback` the
offline seeded random sample, `settings` the URL/key/seed configuration. See docs/pytest-plugin.md.
Nothing is imported here: the plugin module loads in every pytest session of the environment.
"""

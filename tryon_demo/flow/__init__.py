"""The try-on pipeline: admit -> prepare -> create -> follow -> fetch, and the features composed
of those steps. No Gradio. May import everything below it: ``text``, ``errors``, ``settings``,
``api``, ``pictures``, ``hosting`` and ``simulator``."""

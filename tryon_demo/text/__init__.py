"""Words a person reads: messages as keys and values, their catalogues, the visitor's language,
and making outside text safe for Markdown. The ground floor: imports nothing of the app."""

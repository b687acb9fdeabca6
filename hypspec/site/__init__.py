"""The reader's site: the checked chapters as static HTML, every name a link (`docs/site.md`).

`pages` writes the Markdown, `code` the spec blocks as linked HTML, `uses` and `graph` say what
refers to what from the checked syntax tree, `mutations` which mutants change which definition,
`build` runs MkDocs over the result.
"""

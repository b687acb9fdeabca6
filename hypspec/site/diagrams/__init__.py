"""The site's pictures: each derived from the checked spec or model (by evaluating its functions
concretely over a small input domain, or by reading its syntax tree), then drawn as SVG."""

"""Numbers in, Plotly figures out, as plain dicts: style (shared look), run (one run's figures),
insights (the Insights tab's), encode (to JSON for the browser). No torch, no gradio."""

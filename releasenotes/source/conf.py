"""Sphinx configuration for the stratuslab-plugins release notes."""

extensions = ['reno.sphinxext']
project = 'stratuslab-plugins Release Notes'
copyright = '2026, The stratuslab-plugins authors'
master_doc = 'index'
source_suffix = '.rst'
exclude_patterns = []
html_theme = 'alabaster'

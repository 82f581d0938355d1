"""Fixed knowledge: the exit-reason glossary and the seed runs."""

"""The Textual application: screens, widgets and messages. Only this package imports Textual."""

"""Views shown in the main window, one per sidebar section."""

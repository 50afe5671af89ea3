"""The replies page and the main window (Panel) that holds every tab."""

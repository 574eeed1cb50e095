"""The web portal on port 8080: chat demo page and widget, agent console, secretariat pages and API."""

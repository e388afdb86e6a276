"""The web app: server-rendered pages under /app that call the same services as the API."""

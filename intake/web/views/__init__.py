"""The witness site's views: each parses the request, calls one service, and renders."""

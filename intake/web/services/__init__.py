"""The witness site's services: what the views call, testable without a request."""

"""What crosses between the server and the offline laptop: bundles, the submission schema, code lists."""

"""The offline investigator CLI `triage`: never imports the web stack, never opens a socket."""

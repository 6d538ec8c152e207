"""The audit log's integrity: verifying the hash chain and sealing closed days with the documents' key."""

"""The retrieval profile: passages cut along the document's structure, embedded on the CPU, searched in memory."""

"""Request and response models: the API's contract, validated before any use case runs."""

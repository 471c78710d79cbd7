"""Live city state: an NGSI-LD context broker (ETSI GS CIM 009 v1.8)."""

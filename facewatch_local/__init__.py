"""Runs the facewatch stack locally: its data resources on an AWS emulation (moto), read from template.yaml."""

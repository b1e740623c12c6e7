"""`facewatch`: the operator's command line (cameras, employees, site proxy, status, dashboards, alerts).

Runs on an operator's machine with their AWS credentials; never deployed into a Lambda package.
"""

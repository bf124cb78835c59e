"""Identity from the company's identity provider: OpenID Connect sign-in and SCIM provisioning."""

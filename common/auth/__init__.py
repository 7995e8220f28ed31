"""Who is calling: users (RS256 JWTs issued by auth) and services (scoped service tokens).

The two never mix: user tokens are verified only with auth's public key and the `Bearer`
scheme; service tokens only with the calling service's own public key (EdDSA) and the
`Service` scheme.
"""

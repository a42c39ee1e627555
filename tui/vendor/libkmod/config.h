/*
 * Configuration for the vendored libkmod (kmod 30), written by hand in place of the one
 * autotools would generate. Built without compression (zstd, xz, zlib) and without openssl:
 * vmtop inserts its own uncompressed module, and leaving those out keeps libcrypto and
 * friends (1.7 MiB mapped, 0.4 MiB of relocations) out of every vmtop process.
 * Logging is off: vmtop reports errno values itself.
 */
#define HAVE_SECURE_GETENV 1
#define HAVE_STRUCT_STAT_ST_MTIM 1
#define HAVE_DECL_STRNDUPA 1
#define HAVE_DECL_BE32TOH 1
#define HAVE_LINUX_MODULE_H 1
#define HAVE_STATIC_ASSERT 1
#define HAVE_NORETURN 1
#define HAVE___BUILTIN_UADDL_OVERFLOW 1
#define HAVE___BUILTIN_UADDLL_OVERFLOW 1
#define SYSCONFDIR "/etc"
#define PACKAGE "kmod"
#define VERSION "30"
#define KMOD_FEATURES ""

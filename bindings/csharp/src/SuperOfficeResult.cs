namespace SuperOffice.Ffi
{
    /// <summary>
    /// The library's result codes (<c>so_result</c>), with the same numbers. Numbers are never
    /// reused; a code this enum does not name may still arrive from a newer library.
    /// </summary>
    public enum SuperOfficeResult
    {
        /// <summary><c>SO_OK</c>: success (the server answered 2xx).</summary>
        Ok = 0,
        /// <summary><c>SO_ERR_NULL_ARGUMENT</c>: a required value was missing.</summary>
        NullArgument = 1,
        /// <summary><c>SO_ERR_INVALID_ARGUMENT</c>: a malformed URL, a CR/LF or control character in a header value, a value out of range.</summary>
        InvalidArgument = 2,
        /// <summary><c>SO_ERR_BUFFER_TOO_SMALL</c>: an output buffer was too small (handled inside this binding).</summary>
        BufferTooSmall = 3,
        /// <summary><c>SO_ERR_CONNECT</c>: name resolution failed, connection refused or unreachable.</summary>
        Connect = 10,
        /// <summary><c>SO_ERR_TLS</c>: TLS handshake or certificate verification failed.</summary>
        Tls = 11,
        /// <summary><c>SO_ERR_TIMEOUT</c>: the connect or total timeout expired.</summary>
        Timeout = 12,
        /// <summary><c>SO_ERR_IO</c>: the connection broke, or the answer was not valid HTTP.</summary>
        Io = 13,
        /// <summary><c>SO_ERR_CANCELLED</c>: an asynchronous send was cancelled (its token, or <c>Dispose</c>) before it ended.</summary>
        Cancelled = 14,
        /// <summary><c>SO_ERR_HTTP_STATUS</c>: a status outside 2xx not listed below (3xx, 418, ...).</summary>
        HttpStatus = 20,
        /// <summary><c>SO_ERR_BAD_REQUEST</c>: 400.</summary>
        BadRequest = 21,
        /// <summary><c>SO_ERR_UNAUTHORIZED</c>: 401.</summary>
        Unauthorized = 22,
        /// <summary><c>SO_ERR_FORBIDDEN</c>: 403.</summary>
        Forbidden = 23,
        /// <summary><c>SO_ERR_NOT_FOUND</c>: 404.</summary>
        NotFound = 24,
        /// <summary><c>SO_ERR_RATE_LIMITED</c>: 429, after any retries allowed.</summary>
        RateLimited = 25,
        /// <summary><c>SO_ERR_SERVER</c>: 5xx.</summary>
        Server = 26,
        /// <summary><c>SO_ERR_TENANT_UNAVAILABLE</c>: the online tenant is not running (maintenance, suspended).</summary>
        TenantUnavailable = 27,
        /// <summary><c>SO_ERR_CREDENTIALS</c>: no credential could be obtained from SuperOffice's login service (system user, OAuth refresh token); nothing was sent.</summary>
        Credentials = 28,
        /// <summary><c>SO_ERR_RECIPIENT_NOT_FOUND</c>: no person has the e-mail address a send to an address was given; nothing was sent.</summary>
        RecipientNotFound = 29,
        /// <summary><c>SO_ERR_AMBIGUOUS_RECIPIENT</c>: several persons (or more than 50) have the e-mail address; nothing was sent.</summary>
        AmbiguousRecipient = 30,
        /// <summary><c>SO_ERR_PANIC</c>: a bug inside the library, caught at its boundary.</summary>
        Panic = 99,
    }

    /// <summary>The levels passed to <see cref="SuperOfficeClientOptions.Log"/> (<c>SO_LOG_*</c>).</summary>
    public static class SuperOfficeLogLevel
    {
        /// <summary><c>SO_LOG_ERROR</c>.</summary>
        public const int Error = 1;
        /// <summary><c>SO_LOG_WARN</c>.</summary>
        public const int Warn = 2;
        /// <summary><c>SO_LOG_INFO</c>.</summary>
        public const int Info = 3;
        /// <summary><c>SO_LOG_DEBUG</c>.</summary>
        public const int Debug = 4;
    }
}

using System;

namespace SuperOffice.Ffi
{
    /// <summary>
    /// A failure reported by <c>libsuperoffice</c>. Catch a subclass for one kind of failure,
    /// or this class for all of them.
    /// </summary>
    /// <remarks>
    /// The message is the library's (at most 4 KiB; it never contains passwords, tickets,
    /// tokens or the app token). <see cref="Create"/> is the one place where result codes
    /// become exceptions.
    /// </remarks>
    public class SuperOfficeException : Exception
    {
        /// <summary>Creates an exception for <paramref name="code"/>.</summary>
        public SuperOfficeException(SuperOfficeResult code, string message, int httpStatus = 0, string errorType = null)
            : base(message)
        {
            Code = code;
            HttpStatus = httpStatus;
            ErrorType = string.IsNullOrEmpty(errorType) ? null : errorType;
        }

        /// <summary>The library's result code.</summary>
        public SuperOfficeResult Code { get; private set; }

        /// <summary>The HTTP status the server answered, 0 when there was no HTTP answer.</summary>
        public int HttpStatus { get; private set; }

        /// <summary>The <c>ErrorType</c> of the server's SuperOffice error body (e.g. <c>SoNotFoundException</c>), <c>null</c> when it sent none.</summary>
        public string ErrorType { get; private set; }

        /// <summary>
        /// The exception for a failed call: the subclass for <paramref name="code"/>, with the
        /// library's message (or its static text for the code when the message is empty).
        /// </summary>
        internal static SuperOfficeException Create(SuperOfficeResult code, int httpStatus, string message, string errorType)
        {
            if (string.IsNullOrEmpty(message))
            {
                message = NativeMethods.ResultText(code);
            }
            switch (code)
            {
                case SuperOfficeResult.NullArgument:
                case SuperOfficeResult.InvalidArgument:
                case SuperOfficeResult.BufferTooSmall:
                    return new SuperOfficeArgumentException(code, message);
                case SuperOfficeResult.Connect:
                    return new SuperOfficeConnectionException(message);
                case SuperOfficeResult.Tls:
                    return new SuperOfficeTlsException(message);
                case SuperOfficeResult.Timeout:
                    return new SuperOfficeTimeoutException(message);
                case SuperOfficeResult.Io:
                    return new SuperOfficeIoException(message);
                case SuperOfficeResult.HttpStatus:
                    return new SuperOfficeHttpException(message, httpStatus, errorType);
                case SuperOfficeResult.BadRequest:
                    return new SuperOfficeBadRequestException(message, httpStatus, errorType);
                case SuperOfficeResult.Unauthorized:
                    return new SuperOfficeUnauthorizedException(message, httpStatus, errorType);
                case SuperOfficeResult.Forbidden:
                    return new SuperOfficeForbiddenException(message, httpStatus, errorType);
                case SuperOfficeResult.NotFound:
                    return new SuperOfficeNotFoundException(message, httpStatus, errorType);
                case SuperOfficeResult.RateLimited:
                    return new SuperOfficeRateLimitedException(message, httpStatus, errorType);
                case SuperOfficeResult.Server:
                    return new SuperOfficeServerException(message, httpStatus, errorType);
                case SuperOfficeResult.TenantUnavailable:
                    return new SuperOfficeTenantUnavailableException(message, httpStatus, errorType);
                case SuperOfficeResult.Panic:
                    return new SuperOfficePanicException(message);
                default:
                    return new SuperOfficeException(code, message, httpStatus, errorType);
            }
        }
    }

    /// <summary>The library refused a value: a malformed URL, a CR/LF or control character in a header value, a value out of range, a missing value (codes 1, 2, 3).</summary>
    public class SuperOfficeArgumentException : SuperOfficeException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeArgumentException(SuperOfficeResult code, string message)
            : base(code, message)
        {
        }
    }

    /// <summary>Name resolution failed, or the connection was refused or unreachable (<see cref="SuperOfficeResult.Connect"/>).</summary>
    public class SuperOfficeConnectionException : SuperOfficeException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeConnectionException(string message)
            : base(SuperOfficeResult.Connect, message)
        {
        }
    }

    /// <summary>The TLS handshake or certificate verification failed (<see cref="SuperOfficeResult.Tls"/>).</summary>
    public class SuperOfficeTlsException : SuperOfficeException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeTlsException(string message)
            : base(SuperOfficeResult.Tls, message)
        {
        }
    }

    /// <summary>The connect or total timeout expired (<see cref="SuperOfficeResult.Timeout"/>).</summary>
    public class SuperOfficeTimeoutException : SuperOfficeException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeTimeoutException(string message)
            : base(SuperOfficeResult.Timeout, message)
        {
        }
    }

    /// <summary>The connection broke, or the server's answer was not valid HTTP (<see cref="SuperOfficeResult.Io"/>).</summary>
    public class SuperOfficeIoException : SuperOfficeException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeIoException(string message)
            : base(SuperOfficeResult.Io, message)
        {
        }
    }

    /// <summary>The server answered with a status outside 2xx; this class itself is used for statuses without a subclass (3xx, 418, ...).</summary>
    public class SuperOfficeHttpException : SuperOfficeException
    {
        /// <summary>Creates the exception for a status without a more precise subclass.</summary>
        public SuperOfficeHttpException(string message, int httpStatus, string errorType = null)
            : base(SuperOfficeResult.HttpStatus, message, httpStatus, errorType)
        {
        }

        /// <summary>For subclasses.</summary>
        protected SuperOfficeHttpException(SuperOfficeResult code, string message, int httpStatus, string errorType)
            : base(code, message, httpStatus, errorType)
        {
        }
    }

    /// <summary>400 Bad Request.</summary>
    public class SuperOfficeBadRequestException : SuperOfficeHttpException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeBadRequestException(string message, int httpStatus = 400, string errorType = null)
            : base(SuperOfficeResult.BadRequest, message, httpStatus, errorType)
        {
        }
    }

    /// <summary>401 Unauthorized (after the credentials callback, if any, had its one chance).</summary>
    public class SuperOfficeUnauthorizedException : SuperOfficeHttpException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeUnauthorizedException(string message, int httpStatus = 401, string errorType = null)
            : base(SuperOfficeResult.Unauthorized, message, httpStatus, errorType)
        {
        }
    }

    /// <summary>403 Forbidden.</summary>
    public class SuperOfficeForbiddenException : SuperOfficeHttpException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeForbiddenException(string message, int httpStatus = 403, string errorType = null)
            : base(SuperOfficeResult.Forbidden, message, httpStatus, errorType)
        {
        }
    }

    /// <summary>404 Not Found (also the server's answer for a person that does not exist).</summary>
    public class SuperOfficeNotFoundException : SuperOfficeHttpException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeNotFoundException(string message, int httpStatus = 404, string errorType = null)
            : base(SuperOfficeResult.NotFound, message, httpStatus, errorType)
        {
        }
    }

    /// <summary>429 Too Many Requests, after the retries the client was allowed.</summary>
    public class SuperOfficeRateLimitedException : SuperOfficeHttpException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeRateLimitedException(string message, int httpStatus = 429, string errorType = null)
            : base(SuperOfficeResult.RateLimited, message, httpStatus, errorType)
        {
        }
    }

    /// <summary>A 5xx answer (after the retries allowed for 503).</summary>
    public class SuperOfficeServerException : SuperOfficeHttpException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeServerException(string message, int httpStatus, string errorType = null)
            : base(SuperOfficeResult.Server, message, httpStatus, errorType)
        {
        }
    }

    /// <summary>The online tenant is not running (maintenance, suspended) (<see cref="SuperOfficeResult.TenantUnavailable"/>).</summary>
    public class SuperOfficeTenantUnavailableException : SuperOfficeException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeTenantUnavailableException(string message, int httpStatus = 0, string errorType = null)
            : base(SuperOfficeResult.TenantUnavailable, message, httpStatus, errorType)
        {
        }
    }

    /// <summary>A bug inside the library, caught at its boundary (<see cref="SuperOfficeResult.Panic"/>). Please report it.</summary>
    public class SuperOfficePanicException : SuperOfficeException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficePanicException(string message)
            : base(SuperOfficeResult.Panic, message)
        {
        }
    }
}

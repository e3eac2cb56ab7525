using System;

namespace SuperOffice.Ffi
{
    /// <summary>
    /// What every exception built from a library result code carries. The exceptions sit in
    /// .NET's own families (an argument error is an <see cref="ArgumentException"/>, a timeout a
    /// <see cref="TimeoutException"/>, a cancelled call an <see cref="OperationCanceledException"/>,
    /// the rest a <see cref="SuperOfficeException"/>), so to catch every failure of the library
    /// catch <c>Exception e when (e is ISuperOfficeError)</c>.
    /// </summary>
    public interface ISuperOfficeError
    {
        /// <summary>The library's result code.</summary>
        SuperOfficeResult Code { get; }

        /// <summary>The HTTP status the server answered, 0 when there was no HTTP answer.</summary>
        int HttpStatus { get; }

        /// <summary>The <c>ErrorType</c> of the server's SuperOffice error body (e.g. <c>SoNotFoundException</c>), <c>null</c> when it sent none.</summary>
        string ErrorType { get; }

        /// <summary>Whether the server may have the e-mail request (<c>so_delivery</c>):
        /// <see cref="SuperOfficeDelivery.NotSent"/> means it is safe to send again.</summary>
        SuperOfficeDelivery Delivery { get; }

        /// <summary>Whether the e-mail may have gone out, by the library's rule
        /// (<c>so_may_have_been_sent</c>): true for <see cref="SuperOfficeDelivery.Unknown"/> and for an
        /// answered 5xx other than 503; false for <see cref="SuperOfficeDelivery.NotSent"/>, 4xx, 429 and 503.</summary>
        bool MayHaveBeenSent { get; }
    }

    /// <summary>
    /// A failure reported by <c>libsuperoffice</c> that is neither an argument error
    /// (<see cref="SuperOfficeArgumentException"/>) nor a timeout
    /// (<see cref="SuperOfficeTimeoutException"/>). Catch a subclass for one kind of failure.
    /// </summary>
    /// <remarks>
    /// The message is the library's (at most 4 KiB; it never contains a configured secret,
    /// even one the server quoted back). <see cref="Create"/> is the one place where result
    /// codes become exceptions.
    /// </remarks>
    public class SuperOfficeException : Exception, ISuperOfficeError
    {
        /// <summary>Creates an exception without a code (<see cref="Code"/> is <see cref="SuperOfficeResult.Ok"/>).</summary>
        public SuperOfficeException(string message)
            : base(message)
        {
        }

        /// <summary>Creates an exception without a code, caused by <paramref name="inner"/>.</summary>
        public SuperOfficeException(string message, Exception inner)
            : base(message, inner)
        {
        }

        /// <summary>Creates an exception for <paramref name="code"/>.</summary>
        public SuperOfficeException(SuperOfficeResult code, string message, int httpStatus = 0, string errorType = null)
            : this(code, message, null, httpStatus, errorType)
        {
        }

        /// <summary>For subclasses: every field.</summary>
        protected SuperOfficeException(SuperOfficeResult code, string message, Exception inner, int httpStatus, string errorType)
            : base(message, inner)
        {
            Code = code;
            HttpStatus = httpStatus;
            ErrorType = string.IsNullOrEmpty(errorType) ? null : errorType;
        }

        /// <inheritdoc/>
        public SuperOfficeResult Code { get; private set; }

        /// <inheritdoc/>
        public int HttpStatus { get; private set; }

        /// <inheritdoc/>
        public string ErrorType { get; private set; }

        /// <inheritdoc/>
        public SuperOfficeDelivery Delivery { get; internal set; }

        /// <inheritdoc/>
        public bool MayHaveBeenSent
        {
            get { return Deliveries.MayHaveBeenSent(Delivery, HttpStatus); }
        }

        /// <summary>
        /// The exception for a failed call: the class for <paramref name="code"/>, with the
        /// library's message (or its static text for the code when the message is empty). Every
        /// result is an <see cref="ISuperOfficeError"/>. A new code gets one case here.
        /// </summary>
        internal static Exception Create(SuperOfficeResult code, int httpStatus, string message, string errorType,
            SuperOfficeDelivery delivery)
        {
            Exception e = CreateFor(code, httpStatus, message, errorType);
            var withDelivery = e as SuperOfficeException;
            if (withDelivery != null)
            {
                withDelivery.Delivery = delivery;
            }
            var argument = e as SuperOfficeArgumentException;
            if (argument != null)
            {
                argument.Delivery = delivery;
            }
            var timeout = e as SuperOfficeTimeoutException;
            if (timeout != null)
            {
                timeout.Delivery = delivery;
            }
            var cancelled = e as SuperOfficeOperationCanceledException;
            if (cancelled != null)
            {
                cancelled.Delivery = delivery;
            }
            return e;
        }

        private static Exception CreateFor(SuperOfficeResult code, int httpStatus, string message, string errorType)
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
                case SuperOfficeResult.Credentials:
                    return new SuperOfficeCredentialsException(message, httpStatus, errorType);
                case SuperOfficeResult.RecipientNotFound:
                    return new SuperOfficeRecipientNotFoundException(message);
                case SuperOfficeResult.AmbiguousRecipient:
                    return new SuperOfficeAmbiguousRecipientException(message);
                case SuperOfficeResult.Cancelled:
                    return new SuperOfficeOperationCanceledException(message, httpStatus, errorType);
                case SuperOfficeResult.Panic:
                    return new SuperOfficePanicException(message);
                default:
                    return new SuperOfficeException(code, message, httpStatus, errorType);
            }
        }
    }

    /// <summary>
    /// The library refused a value: a malformed URL (or an international host name IDNA
    /// refuses), a CR/LF or control character in a header value, a person id that is not
    /// positive, a value out of range, a missing value (codes 1, 2, 3). An
    /// <see cref="ArgumentException"/>.
    /// </summary>
    public class SuperOfficeArgumentException : ArgumentException, ISuperOfficeError
    {
        /// <summary>Creates the exception, with the code <see cref="SuperOfficeResult.InvalidArgument"/>.</summary>
        public SuperOfficeArgumentException(string message)
            : this(SuperOfficeResult.InvalidArgument, message, null)
        {
        }

        /// <summary>Creates the exception, with the code <see cref="SuperOfficeResult.InvalidArgument"/>, caused by <paramref name="inner"/>.</summary>
        public SuperOfficeArgumentException(string message, Exception inner)
            : this(SuperOfficeResult.InvalidArgument, message, inner)
        {
        }

        /// <summary>Creates the exception for one of the argument codes (1, 2, 3).</summary>
        public SuperOfficeArgumentException(SuperOfficeResult code, string message)
            : this(code, message, null)
        {
        }

        private SuperOfficeArgumentException(SuperOfficeResult code, string message, Exception inner)
            : base(message, inner)
        {
            Code = code;
        }

        /// <inheritdoc/>
        public SuperOfficeResult Code { get; private set; }

        /// <summary>Always 0: argument errors have no HTTP answer.</summary>
        public int HttpStatus
        {
            get { return 0; }
        }

        /// <summary>Always <c>null</c>.</summary>
        public string ErrorType
        {
            get { return null; }
        }

        /// <summary><see cref="SuperOfficeDelivery.NotSent"/> after a send (a refused argument sends nothing);
        /// <see cref="SuperOfficeDelivery.None"/> after a call that sends no e-mail.</summary>
        public SuperOfficeDelivery Delivery { get; internal set; }

        /// <summary>Always <c>false</c>: nothing was sent.</summary>
        public bool MayHaveBeenSent
        {
            get { return false; }
        }
    }

    /// <summary>
    /// The connect or total timeout expired (<see cref="SuperOfficeResult.Timeout"/>). A
    /// <see cref="TimeoutException"/>.
    /// </summary>
    public class SuperOfficeTimeoutException : TimeoutException, ISuperOfficeError
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeTimeoutException(string message)
            : base(message)
        {
        }

        /// <summary>Creates the exception, caused by <paramref name="inner"/>.</summary>
        public SuperOfficeTimeoutException(string message, Exception inner)
            : base(message, inner)
        {
        }

        /// <summary><see cref="SuperOfficeResult.Timeout"/>.</summary>
        public SuperOfficeResult Code
        {
            get { return SuperOfficeResult.Timeout; }
        }

        /// <summary>Always 0: a timeout has no HTTP answer.</summary>
        public int HttpStatus
        {
            get { return 0; }
        }

        /// <summary>Always <c>null</c>.</summary>
        public string ErrorType
        {
            get { return null; }
        }

        /// <summary><see cref="SuperOfficeDelivery.NotSent"/> for a connect timeout,
        /// <see cref="SuperOfficeDelivery.Unknown"/> for one while waiting for the answer.</summary>
        public SuperOfficeDelivery Delivery { get; internal set; }

        /// <inheritdoc/>
        public bool MayHaveBeenSent
        {
            get { return Deliveries.MayHaveBeenSent(Delivery, 0); }
        }
    }

    /// <summary>Name resolution failed, or the connection was refused or unreachable (<see cref="SuperOfficeResult.Connect"/>).</summary>
    public class SuperOfficeConnectionException : SuperOfficeException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeConnectionException(string message)
            : this(message, null)
        {
        }

        /// <summary>Creates the exception, caused by <paramref name="inner"/>.</summary>
        public SuperOfficeConnectionException(string message, Exception inner)
            : base(SuperOfficeResult.Connect, message, inner, 0, null)
        {
        }
    }

    /// <summary>The TLS handshake or certificate verification failed (<see cref="SuperOfficeResult.Tls"/>).</summary>
    public class SuperOfficeTlsException : SuperOfficeException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeTlsException(string message)
            : this(message, null)
        {
        }

        /// <summary>Creates the exception, caused by <paramref name="inner"/>.</summary>
        public SuperOfficeTlsException(string message, Exception inner)
            : base(SuperOfficeResult.Tls, message, inner, 0, null)
        {
        }
    }

    /// <summary>The connection broke, or the server's answer was not valid HTTP (<see cref="SuperOfficeResult.Io"/>).</summary>
    public class SuperOfficeIoException : SuperOfficeException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeIoException(string message)
            : this(message, null)
        {
        }

        /// <summary>Creates the exception, caused by <paramref name="inner"/>.</summary>
        public SuperOfficeIoException(string message, Exception inner)
            : base(SuperOfficeResult.Io, message, inner, 0, null)
        {
        }
    }

    /// <summary>The server answered with a status outside 2xx; this class itself is used for statuses without a subclass (3xx, 418, ...).</summary>
    public class SuperOfficeHttpException : SuperOfficeException
    {
        /// <summary>Creates the exception (HTTP status 0: unknown).</summary>
        public SuperOfficeHttpException(string message)
            : this(message, (Exception)null)
        {
        }

        /// <summary>Creates the exception, caused by <paramref name="inner"/>.</summary>
        public SuperOfficeHttpException(string message, Exception inner)
            : base(SuperOfficeResult.HttpStatus, message, inner, 0, null)
        {
        }

        /// <summary>Creates the exception for a status without a more precise subclass.</summary>
        public SuperOfficeHttpException(string message, int httpStatus, string errorType = null)
            : base(SuperOfficeResult.HttpStatus, message, null, httpStatus, errorType)
        {
        }

        /// <summary>For subclasses.</summary>
        protected SuperOfficeHttpException(SuperOfficeResult code, string message, Exception inner, int httpStatus, string errorType)
            : base(code, message, inner, httpStatus, errorType)
        {
        }
    }

    /// <summary>400 Bad Request.</summary>
    public class SuperOfficeBadRequestException : SuperOfficeHttpException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeBadRequestException(string message) : this(message, (Exception)null) { }

        /// <summary>Creates the exception, caused by <paramref name="inner"/>.</summary>
        public SuperOfficeBadRequestException(string message, Exception inner)
            : base(SuperOfficeResult.BadRequest, message, inner, 400, null) { }

        /// <summary>Creates the exception with the server's status and <c>ErrorType</c>.</summary>
        public SuperOfficeBadRequestException(string message, int httpStatus, string errorType = null)
            : base(SuperOfficeResult.BadRequest, message, null, httpStatus, errorType) { }
    }

    /// <summary>401 Unauthorized (after the credentials callback, if any, had its one chance).</summary>
    public class SuperOfficeUnauthorizedException : SuperOfficeHttpException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeUnauthorizedException(string message) : this(message, (Exception)null) { }

        /// <summary>Creates the exception, caused by <paramref name="inner"/>.</summary>
        public SuperOfficeUnauthorizedException(string message, Exception inner)
            : base(SuperOfficeResult.Unauthorized, message, inner, 401, null) { }

        /// <summary>Creates the exception with the server's status and <c>ErrorType</c>.</summary>
        public SuperOfficeUnauthorizedException(string message, int httpStatus, string errorType = null)
            : base(SuperOfficeResult.Unauthorized, message, null, httpStatus, errorType) { }
    }

    /// <summary>403 Forbidden.</summary>
    public class SuperOfficeForbiddenException : SuperOfficeHttpException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeForbiddenException(string message) : this(message, (Exception)null) { }

        /// <summary>Creates the exception, caused by <paramref name="inner"/>.</summary>
        public SuperOfficeForbiddenException(string message, Exception inner)
            : base(SuperOfficeResult.Forbidden, message, inner, 403, null) { }

        /// <summary>Creates the exception with the server's status and <c>ErrorType</c>.</summary>
        public SuperOfficeForbiddenException(string message, int httpStatus, string errorType = null)
            : base(SuperOfficeResult.Forbidden, message, null, httpStatus, errorType) { }
    }

    /// <summary>404 Not Found (also the server's answer for a person that does not exist).</summary>
    public class SuperOfficeNotFoundException : SuperOfficeHttpException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeNotFoundException(string message) : this(message, (Exception)null) { }

        /// <summary>Creates the exception, caused by <paramref name="inner"/>.</summary>
        public SuperOfficeNotFoundException(string message, Exception inner)
            : base(SuperOfficeResult.NotFound, message, inner, 404, null) { }

        /// <summary>Creates the exception with the server's status and <c>ErrorType</c>.</summary>
        public SuperOfficeNotFoundException(string message, int httpStatus, string errorType = null)
            : base(SuperOfficeResult.NotFound, message, null, httpStatus, errorType) { }
    }

    /// <summary>429 Too Many Requests, after the retries the client was allowed.</summary>
    public class SuperOfficeRateLimitedException : SuperOfficeHttpException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeRateLimitedException(string message) : this(message, (Exception)null) { }

        /// <summary>Creates the exception, caused by <paramref name="inner"/>.</summary>
        public SuperOfficeRateLimitedException(string message, Exception inner)
            : base(SuperOfficeResult.RateLimited, message, inner, 429, null) { }

        /// <summary>Creates the exception with the server's status and <c>ErrorType</c>.</summary>
        public SuperOfficeRateLimitedException(string message, int httpStatus, string errorType = null)
            : base(SuperOfficeResult.RateLimited, message, null, httpStatus, errorType) { }
    }

    /// <summary>A 5xx answer (after the retries allowed for 503).</summary>
    public class SuperOfficeServerException : SuperOfficeHttpException
    {
        /// <summary>Creates the exception (HTTP status 0: unknown).</summary>
        public SuperOfficeServerException(string message) : this(message, (Exception)null) { }

        /// <summary>Creates the exception, caused by <paramref name="inner"/>.</summary>
        public SuperOfficeServerException(string message, Exception inner)
            : base(SuperOfficeResult.Server, message, inner, 0, null) { }

        /// <summary>Creates the exception with the server's status and <c>ErrorType</c>.</summary>
        public SuperOfficeServerException(string message, int httpStatus, string errorType = null)
            : base(SuperOfficeResult.Server, message, null, httpStatus, errorType) { }
    }

    /// <summary>The online tenant is not running (maintenance, suspended) (<see cref="SuperOfficeResult.TenantUnavailable"/>).</summary>
    public class SuperOfficeTenantUnavailableException : SuperOfficeException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeTenantUnavailableException(string message) : this(message, (Exception)null) { }

        /// <summary>Creates the exception, caused by <paramref name="inner"/>.</summary>
        public SuperOfficeTenantUnavailableException(string message, Exception inner)
            : base(SuperOfficeResult.TenantUnavailable, message, inner, 0, null) { }

        /// <summary>Creates the exception with the state service's status and <c>ErrorType</c>.</summary>
        public SuperOfficeTenantUnavailableException(string message, int httpStatus, string errorType = null)
            : base(SuperOfficeResult.TenantUnavailable, message, null, httpStatus, errorType) { }
    }

    /// <summary>No credential could be obtained from SuperOffice's login service (<see cref="SuperOfficeResult.Credentials"/>):
    /// the message says which step failed (the login service's <c>ErrorMessage</c>, the JWT check that failed, an
    /// unreachable login service). No request was sent to the API.</summary>
    public class SuperOfficeCredentialsException : SuperOfficeException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeCredentialsException(string message) : this(message, (Exception)null) { }

        /// <summary>Creates the exception, caused by <paramref name="inner"/>.</summary>
        public SuperOfficeCredentialsException(string message, Exception inner)
            : base(SuperOfficeResult.Credentials, message, inner, 0, null) { }

        /// <summary>Creates the exception with a status and <c>ErrorType</c>.</summary>
        public SuperOfficeCredentialsException(string message, int httpStatus, string errorType = null)
            : base(SuperOfficeResult.Credentials, message, null, httpStatus, errorType) { }
    }

    /// <summary>A send to an e-mail address found no single person with it, so nothing was sent: a family apart from
    /// the HTTP errors (the person search itself answered, and its answer was checked).</summary>
    public abstract class SuperOfficeRecipientException : SuperOfficeException
    {
        /// <summary>Creates the exception with its code.</summary>
        protected SuperOfficeRecipientException(SuperOfficeResult code, string message, Exception inner)
            : base(code, message, inner, 0, null) { }
    }

    /// <summary>No person has the e-mail address (<see cref="SuperOfficeResult.RecipientNotFound"/>); nothing was sent.</summary>
    public class SuperOfficeRecipientNotFoundException : SuperOfficeRecipientException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeRecipientNotFoundException(string message) : this(message, null) { }

        /// <summary>Creates the exception, caused by <paramref name="inner"/>.</summary>
        public SuperOfficeRecipientNotFoundException(string message, Exception inner)
            : base(SuperOfficeResult.RecipientNotFound, message, inner) { }
    }

    /// <summary>Several persons have the e-mail address (<see cref="SuperOfficeResult.AmbiguousRecipient"/>; the message
    /// lists up to 10 of their ids), or more than 50 persons have an address searched for; nothing was sent.</summary>
    public class SuperOfficeAmbiguousRecipientException : SuperOfficeRecipientException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficeAmbiguousRecipientException(string message) : this(message, null) { }

        /// <summary>Creates the exception, caused by <paramref name="inner"/>.</summary>
        public SuperOfficeAmbiguousRecipientException(string message, Exception inner)
            : base(SuperOfficeResult.AmbiguousRecipient, message, inner) { }
    }

    /// <summary>A bug inside the library, caught at its boundary (<see cref="SuperOfficeResult.Panic"/>). Please report it.</summary>
    public class SuperOfficePanicException : SuperOfficeException
    {
        /// <summary>Creates the exception.</summary>
        public SuperOfficePanicException(string message) : this(message, null) { }

        /// <summary>Creates the exception, caused by <paramref name="inner"/>.</summary>
        public SuperOfficePanicException(string message, Exception inner)
            : base(SuperOfficeResult.Panic, message, inner, 0, null) { }
    }
}

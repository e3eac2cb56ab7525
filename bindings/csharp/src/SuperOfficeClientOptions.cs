using System;
using System.Threading;

namespace SuperOffice.Ffi
{
    /// <summary>
    /// Settings for a <see cref="SuperOfficeClient"/>. Read once, when the client is
    /// constructed; changing them afterwards does not affect existing clients.
    /// </summary>
    /// <remarks>
    /// Values are validated by the native library when the client is constructed (a malformed
    /// URL or a CR/LF in a header value throws <see cref="SuperOfficeArgumentException"/>
    /// there). Only what .NET itself checks is checked here: <c>null</c> where a value is
    /// required, and ranges that cannot be represented natively.
    /// </remarks>
    public sealed class SuperOfficeClientOptions
    {
        private static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(10);
        private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

        private TimeSpan _connectTimeout = DefaultConnectTimeout;
        private TimeSpan _timeout = DefaultTimeout;
        private int? _maxRetries;

        /// <summary>
        /// Required. The installation's or tenant's URL, with or without a trailing <c>/api</c>
        /// or <c>/api/</c>, e.g. <c>https://sod.superoffice.com/Cust12345</c>. Only http and https.
        /// </summary>
        public string BaseUrl { get; set; }

        /// <summary>
        /// <c>Authorization: SOTicket &lt;ticket&gt;</c>. A client has one scheme: the library's rule is
        /// that a scheme set replaces the one before, and the client sets Ticket, then
        /// BearerToken, then Username/Password, so the last of those that is set wins.
        /// </summary>
        public string Ticket { get; set; }

        /// <summary><c>Authorization: Bearer &lt;token&gt;</c>; replaces <see cref="Ticket"/> when both are set (see there).</summary>
        public string BearerToken { get; set; }

        /// <summary>User name for <c>Authorization: Basic</c> (onsite); requires <see cref="Password"/>; replaces <see cref="Ticket"/> and <see cref="BearerToken"/> when set with them.</summary>
        public string Username { get; set; }

        /// <summary>Password for <c>Authorization: Basic</c>; requires <see cref="Username"/>.</summary>
        public string Password { get; set; }

        /// <summary>SuperOffice Online system user: the client signs, exchanges, validates and renews its own ticket
        /// (one login however many threads send; on a 401 a new ticket and one resend). Replaces <see cref="Ticket"/>,
        /// <see cref="BearerToken"/> and Basic. Failures throw <see cref="SuperOfficeCredentialsException"/>.</summary>
        public SuperOfficeSystemUser SystemUser { get; set; }

        /// <summary>OAuth 2.0 refresh token flow: the client gets and renews a Bearer access token. Replaces the other
        /// schemes; set it or <see cref="SystemUser"/>, not both.</summary>
        public SuperOfficeOAuthRefresh OAuthRefresh { get; set; }

        /// <summary><c>true</c> (the default): a ticket or access token the client gets from the login service is shared
        /// with this process's other clients of the same identity (scheme, login URL, tenant, token, key, client secret,
        /// CA file contents, proxy): one login for all of them, kept after the clients are disposed until refused, expired,
        /// or <see cref="SuperOfficeClient.ForgetAllCredentials"/>. <c>false</c>: the client keeps its own.</summary>
        public bool SharedCredentials { get; set; } = true;

        /// <summary>SuperOffice's login service, e.g. <c>https://sod.superoffice.com/login</c>; null: derived from the
        /// base URL's host.</summary>
        public string LoginUrl { get; set; }

        /// <summary>The tenant, e.g. <c>Cust12345</c>; null: the base URL's first path segment.</summary>
        public string ContextIdentifier { get; set; }

        /// <summary><c>SO-AppToken</c>: the application secret of an online app.</summary>
        public string AppToken { get; set; }

        /// <summary><c>X-XSRF-TOKEN</c>, sent whenever set, beside any authentication scheme.</summary>
        public string XsrfToken { get; set; }

        /// <summary><c>Accept-Language</c> and <c>SO-Language</c>, e.g. <c>"sv"</c>.</summary>
        public string Language { get; set; }

        /// <summary><c>SO-Culture</c>, e.g. <c>"sv-SE"</c>.</summary>
        public string Culture { get; set; }

        /// <summary><c>SO-TimeZone</c>, e.g. <c>"UTC"</c>.</summary>
        public string TimeZone { get; set; }

        /// <summary>The <c>$select</c> query parameter (percent-encoded by the library); <c>null</c>: none.</summary>
        public string Select { get; set; }

        /// <summary>
        /// Limit for making a connection. Default 10 s. <see cref="TimeSpan.Zero"/> or
        /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>: no limit. When larger than
        /// <see cref="Timeout"/>, the total wins.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">Negative (other than infinite) or more than <see cref="uint.MaxValue"/> ms.</exception>
        public TimeSpan ConnectTimeout
        {
            get { return _connectTimeout; }
            set { ToMilliseconds(value, "ConnectTimeout"); _connectTimeout = value; }
        }

        /// <summary>
        /// Limit for the whole call: connecting, sending, reading the answer, and every retry
        /// and <c>Retry-After</c> wait. Default 30 s. <see cref="TimeSpan.Zero"/> or
        /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>: no limit.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">Negative (other than infinite) or more than <see cref="uint.MaxValue"/> ms.</exception>
        public TimeSpan Timeout
        {
            get { return _timeout; }
            set { ToMilliseconds(value, "Timeout"); _timeout = value; }
        }

        /// <summary>
        /// Retries of what the server provably did not process (a connection that could not be
        /// made, 429, 503). <c>null</c>: the library's default (2); 0 disables; the library
        /// accepts at most 10.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
        public int? MaxRetries
        {
            get { return _maxRetries; }
            set
            {
                if (value.HasValue && value.Value < 0)
                {
                    throw new ArgumentOutOfRangeException("MaxRetries", value, "MaxRetries must not be negative.");
                }
                _maxRetries = value;
            }
        }

        /// <summary>
        /// How many asynchronous sends of the client may be on the network at once (the
        /// library's worker threads for it); <c>null</c>: the library's default, 16. The
        /// library accepts 1 to 1024.
        /// </summary>
        public int? MaxInFlight { get; set; }

        /// <summary>Path of a PEM bundle added to the default trusted roots; <c>null</c>: none.</summary>
        public string CaFile { get; set; }

        /// <summary>
        /// <c>http://[user:pass@]host:port</c>; <c>null</c> (default): the proxy environment
        /// variables; <c>""</c>: no proxy at all.
        /// </summary>
        public string Proxy { get; set; }

        /// <summary>
        /// Called on a 401 when a ticket or bearer token is set: return a fresh ticket or token
        /// (at most 8 KiB of UTF-8), or <c>null</c> when there is none. The request is then
        /// retried once. Called on any thread that sends (the library's worker threads in a
        /// batch), possibly concurrently; exceptions it throws
        /// are treated as "none" (and reported to <see cref="Log"/> when set).
        /// </summary>
        public Func<string> CredentialsCallback { get; set; }

        /// <summary>
        /// Receives the library's log lines: level (<see cref="SuperOfficeLogLevel"/>, 1 error
        /// to 4 debug) and message. Called on any thread that sends (the library's worker threads
        /// in a batch), possibly concurrently; must not
        /// block for long; exceptions it throws are ignored.
        /// </summary>
        public Action<int, string> Log { get; set; }

        /// <summary>Converts a timeout to the library's milliseconds (0 = no limit).</summary>
        internal static uint ToMilliseconds(TimeSpan value, string paramName)
        {
            if (value == TimeSpan.Zero || value == System.Threading.Timeout.InfiniteTimeSpan)
            {
                return 0;
            }
            double milliseconds = Math.Ceiling(value.TotalMilliseconds);
            if (value < TimeSpan.Zero || milliseconds > uint.MaxValue)
            {
                throw new ArgumentOutOfRangeException(paramName, value,
                    paramName + " must be positive and at most " + uint.MaxValue + " ms, or TimeSpan.Zero / Timeout.InfiniteTimeSpan for no limit.");
            }
            // A positive value below 1 ms must not become 0, which would mean "no limit".
            return (uint)Math.Max(1.0, milliseconds);
        }
    }

    /// <summary>A SuperOffice Online system user: token, partner key, client secret. <see cref="ToString"/> shows none of them.</summary>
    public sealed class SuperOfficeSystemUser
    {
        /// <summary>Creates the system user.</summary>
        /// <param name="token">The tenant's system user token, exactly as received.</param>
        /// <param name="privateKey">The partner's RSA key's text: PEM PKCS#1, PEM PKCS#8 or .NET RSAKeyValue XML.</param>
        /// <param name="clientSecret">The application's client secret (also the app token unless AppToken is set).</param>
        public SuperOfficeSystemUser(string token, string privateKey, string clientSecret)
        {
            Token = token;
            PrivateKey = privateKey;
            ClientSecret = clientSecret;
        }

        /// <summary>The system user token.</summary>
        public string Token { get; private set; }

        /// <summary>The partner's private key's text.</summary>
        public string PrivateKey { get; private set; }

        /// <summary>The client secret.</summary>
        public string ClientSecret { get; private set; }

        /// <inheritdoc/>
        public override string ToString() { return "SuperOfficeSystemUser(***)"; }
    }

    /// <summary>An OAuth 2.0 refresh token and its app. <see cref="ToString"/> shows only the client id.</summary>
    public sealed class SuperOfficeOAuthRefresh
    {
        /// <summary>Creates the refresh token settings.</summary>
        public SuperOfficeOAuthRefresh(string clientId, string clientSecret, string refreshToken)
        {
            ClientId = clientId;
            ClientSecret = clientSecret;
            RefreshToken = refreshToken;
        }

        /// <summary>The app's client id.</summary>
        public string ClientId { get; private set; }

        /// <summary>The app's client secret.</summary>
        public string ClientSecret { get; private set; }

        /// <summary>The refresh token.</summary>
        public string RefreshToken { get; private set; }

        /// <inheritdoc/>
        public override string ToString() { return "SuperOfficeOAuthRefresh(" + ClientId + ", ***)"; }
    }
}

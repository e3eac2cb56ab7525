// Self-contained tests of the C# binding against the stub server (docs/stub-protocol.md).
// No test framework: every static method named Test_* is one test; the runner prints its
// name and PASS/FAIL with the reason, then "N passed, N failed", and exits 1 on failure.
//
//   SO_STUB_URL=http://127.0.0.1:PORT mono Tests.exe [name-substring ...]

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SuperOffice.Ffi;

namespace SuperOffice.Ffi.Tests
{
    internal static class Program
    {
        private static int Main(string[] args)
        {
            string stub = Environment.GetEnvironmentVariable("SO_STUB_URL");
            if (string.IsNullOrEmpty(stub))
            {
                Console.Error.WriteLine("FAIL: SO_STUB_URL is not set; run under tests/with-stub.sh (see bindings/csharp/run-tests.sh).");
                return 1;
            }
            Stub.Url = stub.TrimEnd('/');
            Console.WriteLine("libsuperoffice " + SuperOfficeClient.NativeVersion + ", stub " + Stub.Url
                + ", runtime " + RuntimeDescription());

            MethodInfo[] tests = typeof(Tests).GetMethods(BindingFlags.Static | BindingFlags.Public)
                .Where(m => m.Name.StartsWith("Test_", StringComparison.Ordinal))
                .Where(m => args.Length == 0 || args.Any(a => m.Name.IndexOf(a, StringComparison.OrdinalIgnoreCase) >= 0))
                .OrderBy(m => m.MetadataToken)
                .ToArray();
            int passed = 0, failed = 0;
            foreach (MethodInfo test in tests)
            {
                string name = test.Name.Substring("Test_".Length);
                var watch = Stopwatch.StartNew();
                try
                {
                    test.Invoke(null, null);
                    passed++;
                    Console.WriteLine("PASS " + name + " (" + watch.ElapsedMilliseconds + " ms)");
                }
                catch (Exception e)
                {
                    Exception cause = e is TargetInvocationException && e.InnerException != null ? e.InnerException : e;
                    failed++;
                    Console.WriteLine("FAIL " + name + " (" + watch.ElapsedMilliseconds + " ms): " + Describe(cause));
                }
            }
            Console.WriteLine(passed + " passed, " + failed + " failed");
            return failed == 0 && passed > 0 ? 0 : 1;
        }

        private static string Describe(Exception e)
        {
            if (e is AssertionException)
            {
                return e.Message;
            }
            return "unexpected " + e.GetType().FullName + ": " + e.Message + Environment.NewLine + e.StackTrace;
        }

        private static string RuntimeDescription()
        {
            Type mono = Type.GetType("Mono.Runtime");
            if (mono != null)
            {
                MethodInfo display = mono.GetMethod("GetDisplayName", BindingFlags.NonPublic | BindingFlags.Static);
                if (display != null)
                {
                    return "Mono " + display.Invoke(null, null);
                }
            }
            return ".NET " + Environment.Version;
        }
    }

    // ----------------------------------------------------------------------------------------
    // The tests
    // ----------------------------------------------------------------------------------------

    public static class Tests
    {
        private const string Ticket = "7T:dGVzdA==";
        private const string Bearer = "8A:Cust12345.token";
        private const string Endpoint = "/api/v1/Agents/Person/SendCustomerCentrePasswordEmail";

        // ----- credentials the library gets itself (the stub's login service) --------------

        private const string SystemUserToken = "Partner App-8k8Q7DmBgo";
        private const string ClientSecret = "cs-client-secret-leak-check";

        private static string TestKey(string name)
        {
            string dir = Environment.GetEnvironmentVariable("SO_KEYS_DIR")
                ?? System.IO.Path.Combine(AppDomain.CurrentDomain.BaseDirectory, "..", "..", "..", "tests", "keys");
            return System.IO.File.ReadAllText(System.IO.Path.Combine(dir, name));
        }

        private static SuperOfficeClientOptions SystemUserOptions(string prefix, string key)
        {
            return new SuperOfficeClientOptions
            {
                BaseUrl = Stub.Url + prefix + "/Cust12345",
                SystemUser = new SuperOfficeSystemUser(SystemUserToken, TestKey(key), ClientSecret),
                LoginUrl = Stub.Url + prefix + "/login",
                ContextIdentifier = "Cust12345",
                Proxy = "",
            };
        }

        private static int Logins(string prefix)
        {
            return Stub.Count(prefix + "/login/api/PartnerSystemUser/Authenticate");
        }

        public static void Test_SystemUser_EachKeyFormLogsInOnce()
        {
            foreach (string key in new[] { "partner.pkcs1.pem", "partner.pkcs8.pem", "partner.xml" })
            {
                string prefix = Stub.Prefix("system-user-" + key);
                using (var client = new SuperOfficeClient(SystemUserOptions(prefix, key)))
                {
                    client.SendCustomerCentrePasswordEmail(670, null, null, null);
                    client.SendCustomerCentrePasswordEmail(670, null, null, null);
                }
                Assert.Equal(1, Logins(prefix), "logins with " + key);
                List<StubRequest> sent = Stub.Requests(prefix + "/Cust12345");
                Assert.Equal(2, sent.Count, "API requests with " + key);
                Assert.True(sent[0].Header("Authorization").StartsWith("SOTicket 7T:stub-ticket-", StringComparison.Ordinal), "Authorization");
                Assert.Equal(ClientSecret, sent[0].Header("SO-AppToken"), "SO-AppToken");
            }
        }

        public static void Test_SystemUser_RevokedTicketIsRenewedOnce()
        {
            string prefix = Stub.Prefix("system-user-revoked") + "/revoke_first=1";
            using (var client = new SuperOfficeClient(SystemUserOptions(prefix, "partner.xml")))
            {
                client.SendCustomerCentrePasswordEmail(670, null, null, null);
            }
            Assert.Equal(2, Logins(prefix), "logins");
            Assert.Equal(2, Stub.Count(prefix + "/Cust12345"), "API requests");
        }

        public static void Test_SystemUser_RefusedLoginThrowsCredentialsAndSendsNothing()
        {
            string prefix = Stub.Prefix("system-user-refused") + "/login=refused";
            using (var client = new SuperOfficeClient(SystemUserOptions(prefix, "partner.pkcs8.pem")))
            {
                var e = Assert.Throws<SuperOfficeCredentialsException>(() => client.SendCustomerCentrePasswordEmail(670, null, null, null));
                Assert.Equal(SuperOfficeResult.Credentials, e.Code, "Code");
                Assert.True(e.Message.Contains("not approved"), "message: " + e.Message);
                Assert.True(!e.Message.Contains(ClientSecret) && !e.Message.Contains(SystemUserToken), "message shows a secret: " + e.Message);
            }
            Assert.Equal(0, Stub.Count(prefix + "/Cust12345"), "API requests");
        }

        public static void Test_SystemUser_BadKeyIsInvalidArgumentAndNotQuoted()
        {
            var options = SystemUserOptions(Stub.Prefix("system-user-badkey"), "partner.xml");
            options.SystemUser = new SuperOfficeSystemUser(SystemUserToken, "my-secret-key-text", ClientSecret);
            var e = Assert.Throws<SuperOfficeArgumentException>(() => new SuperOfficeClient(options));
            Assert.True(e.Message.Contains("private key"), "message: " + e.Message);
            Assert.True(!e.Message.Contains("my-secret-key-text"), "message quotes the key: " + e.Message);
            Assert.True(!options.SystemUser.ToString().Contains(ClientSecret), "ToString shows the secret");
        }

        public static void Test_OAuthRefresh_SendsBearerToken()
        {
            string prefix = Stub.Prefix("oauth");
            var options = new SuperOfficeClientOptions
            {
                BaseUrl = Stub.Url + prefix + "/Cust12345",
                OAuthRefresh = new SuperOfficeOAuthRefresh("client-id", ClientSecret, "stub-refresh-token"),
                LoginUrl = Stub.Url + prefix + "/login",
                Proxy = "",
            };
            using (var client = new SuperOfficeClient(options))
            {
                client.SendCustomerCentrePasswordEmail(670, null, null, null);
            }
            StubRequest r = Stub.Single(prefix + "/Cust12345");
            Assert.True(r.Header("Authorization").StartsWith("Bearer 8A:stub-access-", StringComparison.Ordinal), "Authorization");
            Assert.True(!options.OAuthRefresh.ToString().Contains("stub-refresh-token"), "ToString shows the token");
        }

        public static void Test_SharedCredentials_ClientsInTurnLogInOnce_AuthenticateSendsNoEmail()
        {
            string prefix = Stub.Prefix("shared-turn");
            for (int i = 0; i < 5; i++)
            {
                using (var client = new SuperOfficeClient(SystemUserOptions(prefix, "partner.xml")))
                {
                    client.Authenticate();
                }
            }
            Assert.Equal(1, Logins(prefix), "logins of 5 clients in turn");
            Assert.Equal(0, Stub.Count(prefix + "/Cust12345"), "no e-mail request");
            using (var client = new SuperOfficeClient(SystemUserOptions(prefix, "partner.xml")))
            {
                client.SendCustomerCentrePasswordEmail(670, null, null, null);
            }
            Assert.Equal(1, Logins(prefix), "logins after a send");
            SuperOfficeClient.ForgetAllCredentials();
            using (var client = new SuperOfficeClient(SystemUserOptions(prefix, "partner.xml")))
            {
                client.Authenticate();
            }
            Assert.Equal(2, Logins(prefix), "logins after ForgetAllCredentials");
        }

        public static void Test_SharedCredentials_FalseGivesEachClientItsOwnLogin()
        {
            string prefix = Stub.Prefix("shared-optout");
            for (int i = 0; i < 3; i++)
            {
                var options = SystemUserOptions(prefix, "partner.pkcs8.pem");
                options.SharedCredentials = false;
                using (var client = new SuperOfficeClient(options))
                {
                    client.Authenticate();
                }
            }
            Assert.Equal(3, Logins(prefix), "logins with SharedCredentials = false");
        }

        public static void Test_Authenticate_ClockNamedAndTicketGivenNotVerified()
        {
            string prefix = Stub.Prefix("auth-clock") + "/clock_min=-20";
            using (var client = new SuperOfficeClient(SystemUserOptions(prefix, "partner.xml")))
            {
                var e = Assert.Throws<SuperOfficeCredentialsException>(() => client.Authenticate());
                Assert.True(e.Message.Contains("this machine's clock is 20 minutes ahead of the login service's"), "message: " + e.Message);
                Assert.True(e.Message.Contains("so the login service refuses it: correct the clock"), "message: " + e.Message);
            }
            string given = Stub.Prefix("auth-ticket");
            using (var client = new SuperOfficeClient(new SuperOfficeClientOptions { BaseUrl = Stub.Url + given + "/Cust12345", Ticket = "7T:dGVzdA==", Proxy = "" }))
            {
                client.Authenticate();
            }
            Assert.Equal(0, Stub.Count(given), "nothing sent for a ticket given");
        }

        // ----- auth schemes and the request on the wire ------------------------------------

        private static SuperOfficeClient PersonClient(string prefix, string directives = "")
        {
            return new SuperOfficeClient(new SuperOfficeClientOptions
            {
                BaseUrl = Stub.Url + prefix + directives + "/Cust12345",
                Ticket = Ticket,
                Proxy = "",
            });
        }

        /// <summary>The e-mail requests the stub received under a prefix (every one, whatever its answer).</summary>
        private static int SendsTo(string prefix)
        {
            return Stub.Requests(prefix).Count(r => r.Method == "POST" && r.Path.EndsWith(Endpoint, StringComparison.Ordinal));
        }

        public static void Test_Person_FindPersonIdsByEmail()
        {
            string prefix = Stub.Prefix("person-find");
            using (var client = PersonClient(prefix))
            {
                Assert.Equal("12,13", string.Join(",", client.FindPersonIdsByEmail("SHARED@example.com")), "shared");
                Assert.Equal("16", string.Join(",", client.FindPersonIdsByEmail("finn.o'brien@example.com")), "apostrophe");
                Assert.Equal(0, client.FindPersonIdsByEmail("retired@example.com").Count, "retired only");
                Assert.Throws<SuperOfficeArgumentException>(() => client.FindPersonIdsByEmail("no-at-sign"), false);
                Assert.Throws<ArgumentNullException>(() => client.FindPersonIdsByEmail(null));
            }
            using (var client = PersonClient(prefix, "/crowd=6"))
            {
                // More than the first call's room: a second call with the count.
                Assert.Equal("100001,100002,100003,100004,100005,100006",
                    string.Join(",", client.FindPersonIdsByEmail("crowd@example.com")), "crowd");
            }
            StubRequest first = Stub.Requests(prefix)[0];
            Assert.Equal("GET", first.Method, "method");
            Assert.Equal(0, SendsTo(prefix), "e-mail requests");
        }

        public static void Test_Person_SendToAnAddress()
        {
            string prefix = Stub.Prefix("person-send");
            using (var client = PersonClient(prefix))
            {
                Assert.Equal(20, client.SendCustomerCentrePasswordEmailToAddress("support@example.com", "ida@example.com", "Hi"), "person id");
                var notFound = Assert.Throws<SuperOfficeRecipientNotFoundException>(
                    () => client.SendCustomerCentrePasswordEmailToAddress(null, "retired@example.com", null));
                Assert.Equal(SuperOfficeResult.RecipientNotFound, notFound.Code, "code");
                Assert.Equal(SuperOfficeDelivery.NotSent, notFound.Delivery, "delivery");
                Assert.True(notFound.Message.Contains("no person has the e-mail address retired@example.com"), notFound.Message);
                var ambiguous = Assert.Throws<SuperOfficeAmbiguousRecipientException>(
                    () => client.SendCustomerCentrePasswordEmailToAddress(null, "shared@example.com", null));
                Assert.True(ambiguous.Message.Contains("person ids 12, 13"), ambiguous.Message);
                Exception asBase = ambiguous;
                Assert.True(asBase is SuperOfficeRecipientException && !(asBase is SuperOfficeHttpException), "family");
            }
            List<StubRequest> posts = Stub.Requests(prefix).Where(r => r.Method == "POST").ToList();
            Assert.Equal(1, posts.Count, "e-mail requests");
            Assert.Equal(20.0, posts[0].Json()["PersonId"], "PersonId");
            Assert.Equal("ida@example.com", posts[0].Json()["To"], "To");
        }

        public static void Test_Person_UntrustedAnswersSendNothing()
        {
            foreach (string directive in new[] { "/archive=filter_ignored", "/archive=no_email" })
            {
                string prefix = Stub.Prefix("person-untrusted" + directive.Replace('/', '-'));
                using (var client = PersonClient(prefix, directive))
                {
                    var e = Assert.Throws<SuperOfficeIoException>(() => client.FindPersonIdsByEmail("ann.able@example.com"));
                    Assert.True(e.Message.StartsWith("GET http://", StringComparison.Ordinal), e.Message);
                    Assert.Throws<SuperOfficeIoException>(() => client.SendCustomerCentrePasswordEmailToAddress(null, "ann.able@example.com", null));
                }
                Assert.Equal(0, SendsTo(prefix), "e-mail requests (" + directive + ")");
            }
        }

        public static void Test_Version_IsReported()
        {
            string version = SuperOfficeClient.NativeVersion;
            Assert.True(!string.IsNullOrEmpty(version) && char.IsDigit(version[0]), "so_version() gave '" + version + "'");
        }

        public static void Test_Ticket_WireRequest()
        {
            string prefix = Stub.Prefix("ticket");
            var options = new SuperOfficeClientOptions
            {
                BaseUrl = Stub.Url + prefix + "/auth=ticket/Cust12345",
                Ticket = Ticket,
                AppToken = "app-secret-123",
                Language = "sv",
                Proxy = "",
            };
            using (var client = new SuperOfficeClient(options))
            {
                client.SendCustomerCentrePasswordEmail(670, "support@example.com", "kari@example.com", "Your password");
            }
            StubRequest r = Stub.Single(prefix);
            Assert.Equal("POST", r.Method, "method");
            Assert.Equal(prefix + "/auth=ticket/Cust12345" + Endpoint, r.Path, "path");
            Assert.Equal("SOTicket " + Ticket, r.Header("Authorization"), "Authorization");
            Assert.Equal("app-secret-123", r.Header("SO-AppToken"), "SO-AppToken");
            Assert.Equal("sv", r.Header("Accept-Language"), "Accept-Language");
            Assert.Equal("sv", r.Header("SO-Language"), "SO-Language");
            Assert.Equal("application/json; charset=utf-8", r.Header("Content-Type"), "Content-Type");
            Assert.True((r.Header("Accept") ?? "").StartsWith("application/json", StringComparison.Ordinal), "Accept was " + r.Header("Accept"));
            Assert.Equal(null, r.Header("X-XSRF-TOKEN"), "X-XSRF-TOKEN");
            var body = r.Json();
            Assert.Equal("PersonId,From,To,Subject", string.Join(",", body.Keys), "body keys");
            Assert.Equal(670.0, body["PersonId"], "PersonId");
            Assert.Equal("support@example.com", body["From"], "From");
            Assert.Equal("kari@example.com", body["To"], "To");
            Assert.Equal("Your password", body["Subject"], "Subject");
        }

        public static void Test_Bearer_WireRequest()
        {
            string prefix = Stub.Prefix("bearer");
            using (var client = Client(prefix + "/auth=bearer/Cust12345", o => { o.Ticket = null; o.BearerToken = Bearer; }))
            {
                client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s");
            }
            Assert.Equal("Bearer " + Bearer, Stub.Single(prefix).Header("Authorization"), "Authorization");
        }

        public static void Test_Basic_WireRequest()
        {
            string prefix = Stub.Prefix("basic");
            using (var client = Client(prefix + "/auth=basic/Cust12345", o => { o.Ticket = null; o.Username = "tje0"; o.Password = "Tje0"; }))
            {
                client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s");
            }
            Assert.Equal("Basic dGplMDpUamUw", Stub.Single(prefix).Header("Authorization"), "Authorization");
        }

        public static void Test_Xsrf_WireRequest()
        {
            string prefix = Stub.Prefix("xsrf");
            using (var client = Client(prefix + "/auth=xsrf/Cust12345", o => { o.Ticket = null; o.XsrfToken = "xsrf-123"; }))
            {
                client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s");
            }
            StubRequest r = Stub.Single(prefix);
            Assert.Equal(null, r.Header("Authorization"), "Authorization");
            Assert.Equal("xsrf-123", r.Header("X-XSRF-TOKEN"), "X-XSRF-TOKEN");
        }

        public static void Test_XsrfBesideTicket_BothSent()
        {
            string prefix = Stub.Prefix("xsrf-ticket");
            using (var client = Client(prefix + "/Cust12345", o => o.XsrfToken = "xsrf-123"))
            {
                client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s");
            }
            StubRequest r = Stub.Single(prefix);
            Assert.Equal("SOTicket " + Ticket, r.Header("Authorization"), "Authorization");
            Assert.Equal("xsrf-123", r.Header("X-XSRF-TOKEN"), "X-XSRF-TOKEN");
        }

        public static void Test_CultureTimeZoneSelect_WireRequest()
        {
            string prefix = Stub.Prefix("headers");
            using (var client = Client(prefix + "/Cust12345", o => { o.Culture = "sv-SE"; o.TimeZone = "UTC"; o.Select = "name,department"; }))
            {
                client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s");
            }
            StubRequest r = Stub.Single(prefix);
            Assert.Equal("sv-SE", r.Header("SO-Culture"), "SO-Culture");
            Assert.Equal("UTC", r.Header("SO-TimeZone"), "SO-TimeZone");
            string query = Uri.UnescapeDataString(r.Query ?? "");
            Assert.True(query.Contains("$select=name,department"), "query was '" + r.Query + "'");
        }

        public static void Test_NullFieldsAndUtf8_InBody()
        {
            string prefix = Stub.Prefix("body");
            const string subject = "Ditt lösenord ✓ – 密码";
            using (var client = Client(prefix + "/Cust12345"))
            {
                client.SendCustomerCentrePasswordEmail(42, null, "åsa@example.com", subject);
            }
            var body = Stub.Single(prefix).Json();
            Assert.Equal(42.0, body["PersonId"], "PersonId");
            Assert.True(body.ContainsKey("From") && body["From"] == null, "From should be JSON null");
            Assert.Equal("åsa@example.com", body["To"], "To");
            Assert.Equal(subject, body["Subject"], "Subject");
        }

        public static void Test_BaseUrlWithApiSuffix_SamePath()
        {
            string prefix = Stub.Prefix("api-suffix");
            foreach (string suffix in new[] { "", "/", "/api", "/api/" })
            {
                using (var client = Client(prefix + "/Cust12345" + suffix))
                {
                    client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s");
                }
            }
            List<StubRequest> all = Stub.Requests(prefix);
            Assert.Equal(4, all.Count, "requests");
            foreach (StubRequest r in all)
            {
                Assert.Equal(prefix + "/Cust12345" + Endpoint, r.Path, "path");
            }
        }

        // ----- credentials -----------------------------------------------------------------

        public static void Test_InvalidTicket_Unauthorized()
        {
            string prefix = Stub.Prefix("bad-ticket");
            using (var client = Client(prefix + "/Cust12345", o => o.Ticket = "7T:wrong"))
            {
                var e = Assert.Throws<SuperOfficeUnauthorizedException>(() => client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s"));
                Assert.Equal(SuperOfficeResult.Unauthorized, e.Code, "Code");
                Assert.Equal(401, e.HttpStatus, "HttpStatus");
                Assert.Equal("UnauthorizedAccessException", e.ErrorType, "ErrorType");
                Assert.True(!e.Message.Contains("7T:wrong"), "the message contains the ticket: " + e.Message);
            }
        }

        public static void Test_CredentialsCallback_RefreshesTicketOnce()
        {
            string prefix = Stub.Prefix("refresh");
            int calls = 0;
            using (var client = Client(prefix + "/Cust12345", o =>
            {
                o.Ticket = "7T:expired";
                o.CredentialsCallback = () => { Interlocked.Increment(ref calls); return "fresh-ticket-1"; };
            }))
            {
                client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s");
            }
            Assert.Equal(1, calls, "callback calls");
            List<StubRequest> all = Stub.Requests(prefix);
            Assert.Equal(2, all.Count, "requests");
            Assert.Equal("SOTicket 7T:expired", all[0].Header("Authorization"), "first Authorization");
            Assert.Equal("SOTicket fresh-ticket-1", all[1].Header("Authorization"), "second Authorization");
        }

        public static void Test_CredentialsCallback_NullOrThrowing_StaysUnauthorized()
        {
            string prefix = Stub.Prefix("refresh-none");
            var logs = new List<string>();
            Func<string>[] callbacks = { () => null, () => { throw new InvalidOperationException("vault down"); } };
            foreach (Func<string> callback in callbacks)
            {
                using (var client = Client(prefix + "/Cust12345", o =>
                {
                    o.BearerToken = "8A:expired";
                    o.Ticket = null;
                    o.CredentialsCallback = callback;
                    o.Log = (level, message) => { lock (logs) { logs.Add(level + " " + message); } };
                }))
                {
                    var e = Assert.Throws<SuperOfficeUnauthorizedException>(() => client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s"));
                    Assert.Equal(401, e.HttpStatus, "HttpStatus");
                }
            }
            Assert.True(logs.Any(l => l.Contains("vault down")), "the callback's exception was not logged: " + string.Join(" | ", logs));
        }

        // ----- every error kind ------------------------------------------------------------

        public static void Test_Status400_BadRequest()
        {
            ExpectStatus(400, typeof(SuperOfficeBadRequestException), SuperOfficeResult.BadRequest, "SoStubException");
        }

        public static void Test_Status401_Unauthorized()
        {
            ExpectStatus(401, typeof(SuperOfficeUnauthorizedException), SuperOfficeResult.Unauthorized, "SoStubException");
        }

        public static void Test_Status403_Forbidden()
        {
            ExpectStatus(403, typeof(SuperOfficeForbiddenException), SuperOfficeResult.Forbidden, "SoStubException");
        }

        public static void Test_Status404_NotFound()
        {
            ExpectStatus(404, typeof(SuperOfficeNotFoundException), SuperOfficeResult.NotFound, "SoNotFoundException");
        }

        public static void Test_Status429_RateLimited()
        {
            ExpectStatus(429, typeof(SuperOfficeRateLimitedException), SuperOfficeResult.RateLimited, "SoStubException");
        }

        public static void Test_Status500_Server()
        {
            ExpectStatus(500, typeof(SuperOfficeServerException), SuperOfficeResult.Server, "SoStubException");
        }

        public static void Test_Status503_Server()
        {
            ExpectStatus(503, typeof(SuperOfficeServerException), SuperOfficeResult.Server, "SoStubException");
        }

        public static void Test_Status418_HttpStatus()
        {
            ExpectStatus(418, typeof(SuperOfficeHttpException), SuperOfficeResult.HttpStatus, "SoStubException");
        }

        public static void Test_Redirect_NotFollowed()
        {
            string prefix = Stub.Prefix("redirect");
            using (var client = Client(prefix + "/status=302/location=http%3A%2F%2Felsewhere.example%2Fnew/Cust12345"))
            {
                var e = Assert.Throws<SuperOfficeHttpException>(() => client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s"));
                Assert.Equal(302, e.HttpStatus, "HttpStatus");
                Assert.Equal(SuperOfficeResult.HttpStatus, e.Code, "Code");
                Assert.True(e.Message.Contains("http://elsewhere.example/new"), "the message lacks the Location: " + e.Message);
            }
            Assert.Equal(1, Stub.Count(prefix), "requests");
        }

        public static void Test_PersonNotFound_NotFound()
        {
            string prefix = Stub.Prefix("person-404");
            using (var client = Client(prefix + "/Cust12345"))
            {
                var e = Assert.Throws<SuperOfficeNotFoundException>(() => client.SendCustomerCentrePasswordEmail(99999, "a@example.com", "b@example.com", "s"));
                Assert.Equal(404, e.HttpStatus, "HttpStatus");
                Assert.Equal("SoNotFoundException", e.ErrorType, "ErrorType");
                Assert.True(e.Message.Contains("Person id 99999 not found"), "message: " + e.Message);
            }
        }

        public static void Test_Garbage_Io()
        {
            string prefix = Stub.Prefix("garbage");
            using (var client = Client(prefix + "/garbage/Cust12345"))
            {
                var e = Assert.Throws<SuperOfficeIoException>(() => client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s"));
                Assert.Equal(SuperOfficeResult.Io, e.Code, "Code");
                Assert.Equal(0, e.HttpStatus, "HttpStatus");
                Assert.Equal(null, e.ErrorType, "ErrorType");
            }
        }

        public static void Test_DropAfter_IoAndNotResent()
        {
            string prefix = Stub.Prefix("drop-after");
            using (var client = Client(prefix + "/drop=after/Cust12345", o => o.MaxRetries = 3))
            {
                var e = Assert.Throws<SuperOfficeIoException>(() => client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s"));
                Assert.Equal(0, e.HttpStatus, "HttpStatus");
            }
            Assert.Equal(1, Stub.Count(prefix), "requests (a POST that may have been processed must not be sent twice)");
        }

        public static void Test_RefusedPort_Connection()
        {
            int port = FreePort();
            var options = new SuperOfficeClientOptions { BaseUrl = "http://127.0.0.1:" + port + "/Cust12345", Ticket = Ticket, MaxRetries = 0, Proxy = "" };
            using (var client = new SuperOfficeClient(options))
            {
                var e = Assert.Throws<SuperOfficeConnectionException>(() => client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s"));
                Assert.Equal(SuperOfficeResult.Connect, e.Code, "Code");
                Assert.Equal(0, e.HttpStatus, "HttpStatus");
            }
        }

        public static void Test_DelayBeyondTimeout_Timeout()
        {
            string prefix = Stub.Prefix("timeout");
            using (var client = Client(prefix + "/delay_ms=3000/Cust12345", o => o.Timeout = TimeSpan.FromMilliseconds(500)))
            {
                var watch = Stopwatch.StartNew();
                var e = Assert.Throws<SuperOfficeTimeoutException>(() => client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s"));
                Assert.Equal(SuperOfficeResult.Timeout, e.Code, "Code");
                Assert.Equal(0, e.HttpStatus, "HttpStatus");
                Assert.True(watch.ElapsedMilliseconds < 2500, "took " + watch.ElapsedMilliseconds + " ms with a 500 ms timeout");
            }
        }

        public static void Test_BadBaseUrl_ThrowsAtConstruction()
        {
            foreach (string url in new[] { "ftp://example.com/Cust12345", "not a url", "", "http://exa mple.com/" })
            {
                var e = Assert.Throws<SuperOfficeArgumentException>(() => new SuperOfficeClient(new SuperOfficeClientOptions { BaseUrl = url }));
                Assert.Equal(SuperOfficeResult.InvalidArgument, e.Code, "Code for '" + url + "'");
                Assert.True(e.Message.Length > 0, "empty message for '" + url + "'");
            }
        }

        public static void Test_CrLfInHeaderValue_ThrowsAtConstruction()
        {
            var cases = new Action<SuperOfficeClientOptions>[]
            {
                o => o.AppToken = "app-secret\r\nX-Injected: 1",
                o => o.Ticket = "7T:abc\ndef",
                o => o.Language = "sv\r",
                o => o.Culture = "sv\nSE",
                o => o.TimeZone = "UTC\r\n",
                o => o.XsrfToken = "x\ny",
                o => { o.Ticket = null; o.BearerToken = "8A:a\r\nb"; },
            };
            foreach (Action<SuperOfficeClientOptions> set in cases)
            {
                var options = new SuperOfficeClientOptions { BaseUrl = Stub.Url + "/Cust12345", Ticket = Ticket };
                set(options);
                var e = Assert.Throws<SuperOfficeArgumentException>(() => new SuperOfficeClient(options));
                Assert.Equal(SuperOfficeResult.InvalidArgument, e.Code, "Code");
                Assert.True(!e.Message.Contains("app-secret") && !e.Message.Contains("7T:abc"), "the message contains a secret: " + e.Message);
            }
        }

        public static void Test_BasicAuthWithoutPassword_NullArgument()
        {
            var e = Assert.Throws<SuperOfficeArgumentException>(() => Client(Stub.Prefix("basic-nopw") + "/Cust12345", o => { o.Ticket = null; o.Username = "tje0"; }));
            Assert.Equal(SuperOfficeResult.NullArgument, e.Code, "Code");
        }

        public static void Test_RetryAfterBeyondTimeout_FailsAtOnce()
        {
            string prefix = Stub.Prefix("retry-after");
            using (var client = Client(prefix + "/status=503/retry_after=5/Cust12345", o => o.Timeout = TimeSpan.FromSeconds(2)))
            {
                var watch = Stopwatch.StartNew();
                var e = Assert.Throws<SuperOfficeServerException>(() => client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s"));
                Assert.Equal(503, e.HttpStatus, "HttpStatus");
                Assert.True(watch.ElapsedMilliseconds < 1500, "waited " + watch.ElapsedMilliseconds + " ms");
                Assert.True(e.Message.Contains("5 s"), "the message does not say how long the server asked to wait: " + e.Message);
            }
            Assert.Equal(1, Stub.Count(prefix), "requests");
        }

        public static void Test_ManagedArgumentChecks_BeforeAnyNativeCall()
        {
            string prefix = Stub.Prefix("managed-args");
            Assert.Throws<ArgumentNullException>(() => new SuperOfficeClient(null));
            Assert.Throws<ArgumentNullException>(() => new SuperOfficeClient(new SuperOfficeClientOptions { Ticket = Ticket }));
            Assert.Throws<ArgumentException>(() => new SuperOfficeClient(new SuperOfficeClientOptions { BaseUrl = Stub.Url, Ticket = "a\0b" }));
            Assert.Throws<ArgumentOutOfRangeException>(() => new SuperOfficeClientOptions { Timeout = TimeSpan.FromSeconds(-1) });
            Assert.Throws<ArgumentOutOfRangeException>(() => new SuperOfficeClientOptions { ConnectTimeout = TimeSpan.FromDays(60) });
            Assert.Throws<ArgumentOutOfRangeException>(() => new SuperOfficeClientOptions { MaxRetries = -1 });
            using (var client = Client(prefix + "/Cust12345"))
            {
                // The person id and concurrency rules are the library's: its code, its message.
                var e = Assert.Throws<SuperOfficeArgumentException>(() => client.SendCustomerCentrePasswordEmail(0, "a", "b", "c"));
                Assert.Equal("person_id must be positive, got 0", e.Message, "the library's message");
                Assert.Throws<SuperOfficeArgumentException>(() => client.SendCustomerCentrePasswordEmail(-670, "a", "b", "c"));
                Assert.Throws<SuperOfficeArgumentException>(() => client.SendCustomerCentrePasswordEmailAsync(0, "a", "b", "c").GetAwaiter().GetResult());
                // SendManyAsync throttles its own asynchronous sends: its bound is its own check.
                Assert.Throws<ArgumentOutOfRangeException>(() => client.SendManyAsync(new[] { new SendItem(670, "a", "b", "c") }, 0));
                Assert.Throws<ArgumentOutOfRangeException>(() => client.SendManyAsync(new[] { new SendItem(670, "a", "b", "c") }, SuperOfficeClient.MaxBatchConcurrency + 1));
                Assert.Throws<SuperOfficeArgumentException>(() => client.SendMany(new[] { new SendItem(670, "a", "b", "c") }, -1));
                Assert.Throws<ArgumentNullException>(() => client.SendManyAsync(null));
                Assert.Throws<ArgumentNullException>(() => client.SendManyAsync(new SendItem[] { null }));
                Assert.Throws<ArgumentException>(() => client.SendCustomerCentrePasswordEmail(670, "a\0", "b", "c"));
            }
            Assert.Throws<ArgumentNullException>(() => SuperOfficeClient.LookupTenantApiUrl(null, Stub.Url));
            Assert.Equal(0, Stub.Count(prefix), "requests");
        }

        // ----- options -------------------------------------------------------------------

        public static void Test_Timeouts_DefaultsAndNoLimit()
        {
            var options = new SuperOfficeClientOptions();
            Assert.Equal(TimeSpan.FromSeconds(10), options.ConnectTimeout, "default ConnectTimeout");
            Assert.Equal(TimeSpan.FromSeconds(30), options.Timeout, "default Timeout");
            string prefix = Stub.Prefix("timeouts");
            using (var client = Client(prefix + "/Cust12345", o => { o.ConnectTimeout = Timeout.InfiniteTimeSpan; o.Timeout = TimeSpan.Zero; }))
            {
                client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s");
            }
            using (var client = Client(prefix + "/Cust12345", o => { o.ConnectTimeout = TimeSpan.FromTicks(1); o.Timeout = TimeSpan.FromMinutes(5); }))
            {
                client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s");
            }
            Assert.Equal(2, Stub.Count(prefix), "requests");
        }

        public static void Test_MaxRetries_RetriesA503AndIsBounded()
        {
            string prefix = Stub.Prefix("retries");
            using (var client = Client(prefix + "/fail_first=1/status=503/Cust12345", o => o.MaxRetries = 1))
            {
                client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s");
            }
            Assert.Equal(2, Stub.Count(prefix), "requests (one 503, then one success)");
            var e = Assert.Throws<SuperOfficeArgumentException>(() => Client(Stub.Prefix("retries-11") + "/Cust12345", o => o.MaxRetries = 11));
            Assert.Equal(SuperOfficeResult.InvalidArgument, e.Code, "Code for MaxRetries = 11");
        }

        public static void Test_Proxy_EmptyMeansNoneAndBadUrlRefused()
        {
            string prefix = Stub.Prefix("proxy");
            using (var client = Client(prefix + "/Cust12345", o => o.Proxy = ""))
            {
                client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s");
            }
            Assert.Equal(1, Stub.Count(prefix), "requests");
            var e = Assert.Throws<SuperOfficeArgumentException>(() => Client(prefix + "/Cust12345", o => o.Proxy = "not a proxy url"));
            Assert.Equal(SuperOfficeResult.InvalidArgument, e.Code, "Code");
        }

        public static void Test_CaFile_MissingFileRefused()
        {
            string missing = Path.Combine(Path.GetTempPath(), "no-such-ca-" + Guid.NewGuid().ToString("N") + ".pem");
            // A path the library cannot read is an invalid argument: an ArgumentException.
            var e = Assert.Throws<SuperOfficeArgumentException>(() => Client(Stub.Prefix("ca") + "/Cust12345", o => o.CaFile = missing));
            Assert.True(e.Message.Contains(missing), "the message does not name the file: " + e.Message);
        }

        public static void Test_LogCallback_ReceivesLinesWithoutSecrets()
        {
            string prefix = Stub.Prefix("log");
            var lines = new List<KeyValuePair<int, string>>();
            using (var client = Client(prefix + "/Cust12345", o =>
            {
                o.AppToken = "app-secret-xyz";
                o.Log = (level, message) => { lock (lines) { lines.Add(new KeyValuePair<int, string>(level, message)); } };
            }))
            {
                client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s");
            }
            Assert.True(lines.Count > 0, "no log line for a request");
            Assert.True(lines.All(l => l.Key >= SuperOfficeLogLevel.Error && l.Key <= SuperOfficeLogLevel.Debug), "a level out of 1..4");
            Assert.True(lines.All(l => !l.Value.Contains(Ticket) && !l.Value.Contains("app-secret-xyz")), "a log line holds a secret");
        }

        // ----- disposal, async, threads --------------------------------------------------

        public static void Test_Dispose_TwiceIsFineAndUseAfterThrows()
        {
            string prefix = Stub.Prefix("dispose");
            var client = Client(prefix + "/Cust12345");
            client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s");
            client.Dispose();
            client.Dispose();
            Assert.Throws<ObjectDisposedException>(() => client.SendCustomerCentrePasswordEmail(670, "a", "b", "c"));
            Assert.Throws<ObjectDisposedException>(() => client.SendCustomerCentrePasswordEmailAsync(670, "a", "b", "c"));
            Assert.Throws<ObjectDisposedException>(() => client.SendManyAsync(new[] { new SendItem(670, "a", "b", "c") }));
            Assert.Throws<ObjectDisposedException>(() => client.SendMany(new[] { new SendItem(670, "a", "b", "c") }));
            Assert.Equal(1, Stub.Count(prefix), "requests");
        }

        public static void Test_Dispose_WhileSendingSync_SendCompletes()
        {
            string prefix = Stub.Prefix("dispose-inflight");
            var client = Client(prefix + "/delay_ms=600/Cust12345");
            Task send = Task.Run(() => client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s"));
            Thread.Sleep(200);
            client.Dispose();
            send.GetAwaiter().GetResult();
            Assert.Throws<ObjectDisposedException>(() => client.SendCustomerCentrePasswordEmail(670, "a", "b", "c"));
            Assert.Equal(1, Stub.Count(prefix), "requests");
        }

        public static void Test_Finalizer_ReleasesUndisposedClients()
        {
            string prefix = Stub.Prefix("finalize");
            for (int i = 0; i < 50; i++)
            {
                var client = Client(prefix + "/Cust12345", o => o.Log = (level, message) => { });
                if (i % 10 == 0)
                {
                    client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s");
                }
            }
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            Assert.Equal(5, Stub.Count(prefix), "requests");
        }

        public static void Test_Async_SuccessAndErrors()
        {
            string prefix = Stub.Prefix("async");
            using (var client = Client(prefix + "/Cust12345"))
            {
                client.SendCustomerCentrePasswordEmailAsync(670, "a@example.com", "b@example.com", "s").GetAwaiter().GetResult();
                var e = Assert.Throws<SuperOfficeNotFoundException>(() => client.SendCustomerCentrePasswordEmailAsync(99999, "a", "b", "c").GetAwaiter().GetResult());
                Assert.Equal(404, e.HttpStatus, "HttpStatus");
                Assert.Equal("SoNotFoundException", e.ErrorType, "ErrorType (read on the thread-pool thread that failed)");
            }
            Assert.Equal(2, Stub.Count(prefix), "requests");
        }

        public static void Test_Async_CancelledBeforeStart_SendsNothing()
        {
            string prefix = Stub.Prefix("cancel");
            using (var client = Client(prefix + "/Cust12345"))
            using (var cts = new CancellationTokenSource())
            {
                cts.Cancel();
                Task task = client.SendCustomerCentrePasswordEmailAsync(670, "a@example.com", "b@example.com", "s", cts.Token);
                Assert.Throws<OperationCanceledException>(() => task.GetAwaiter().GetResult(), exact: false);
                Assert.True(task.IsCanceled, "task status " + task.Status);
                Task batch = client.SendManyAsync(new[] { new SendItem(670, "a", "b", "c") }, 8, null, cts.Token);
                Assert.Throws<OperationCanceledException>(() => batch.GetAwaiter().GetResult(), exact: false);
            }
            Assert.Equal(0, Stub.Count(prefix), "requests");
        }

        public static void Test_EightParallelTasks_OneClient()
        {
            string prefix = Stub.Prefix("parallel");
            const int delayMs = 300;
            using (var client = Client(prefix + "/delay_ms=" + delayMs + "/Cust12345"))
            {
                var watch = Stopwatch.StartNew();
                Task[] tasks = Enumerable.Range(1, 8)
                    .Select(i => client.SendCustomerCentrePasswordEmailAsync(i, "a@example.com", "b" + i + "@example.com", "s"))
                    .ToArray();
                Task.WhenAll(tasks).GetAwaiter().GetResult();
                long elapsed = watch.ElapsedMilliseconds;
                Assert.True(elapsed < 8 * delayMs, "8 sends of " + delayMs + " ms took " + elapsed + " ms: not concurrent");
                Console.WriteLine("     8 parallel sends of " + delayMs + " ms each took " + elapsed + " ms");
            }
            List<StubRequest> all = Stub.Requests(prefix);
            Assert.Equal(8, all.Count, "requests");
            Assert.Equal("1,2,3,4,5,6,7,8", string.Join(",", all.Select(r => Convert.ToInt32(r.Json()["PersonId"])).OrderBy(i => i)), "person ids");
        }


        // ----- delivery: whether the e-mail may have gone out ------------------------------

        private static int RefusedPort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }

        private static ISuperOfficeError FailureOf(SuperOfficeClient client, int personId = 670)
        {
            try
            {
                client.SendCustomerCentrePasswordEmail(personId, null, null, null);
            }
            catch (Exception e) when (e is ISuperOfficeError)
            {
                return (ISuperOfficeError)e;
            }
            throw new AssertionException("the send did not fail");
        }

        public static void Test_Delivery_OfEachFailure()
        {
            var cases = new[]
            {
                new { Directives = "status=404", Delivery = SuperOfficeDelivery.Answered, May = false },
                new { Directives = "status=503/retry_after=0", Delivery = SuperOfficeDelivery.Answered, May = false },
                new { Directives = "status=500", Delivery = SuperOfficeDelivery.Answered, May = true },
                new { Directives = "drop=after", Delivery = SuperOfficeDelivery.Unknown, May = true },
                new { Directives = "drop=reset", Delivery = SuperOfficeDelivery.Unknown, May = true },
            };
            foreach (var k in cases)
            {
                string prefix = Stub.Prefix("delivery-" + k.Directives.Replace('/', '-').Replace('=', '-'));
                using (var client = Client(prefix + "/" + k.Directives + "/Cust12345", o => o.MaxRetries = 0))
                {
                    ISuperOfficeError e = FailureOf(client);
                    Assert.Equal(k.Delivery, e.Delivery, k.Directives + ": Delivery");
                    Assert.Equal(k.May, e.MayHaveBeenSent, k.Directives + ": MayHaveBeenSent");
                }
                Assert.Equal(1, Stub.Count(prefix), k.Directives + ": requests");
            }
            string hang = Stub.Prefix("delivery-hang");
            using (var client = Client(hang + "/hang/Cust12345", o => o.Timeout = TimeSpan.FromMilliseconds(300)))
            {
                var e = Assert.Throws<SuperOfficeTimeoutException>(() => client.SendCustomerCentrePasswordEmail(670, null, null, null));
                Assert.Equal(SuperOfficeDelivery.Unknown, e.Delivery, "answer timeout");
                Assert.True(e.MayHaveBeenSent, "an answer timeout may have been sent");
                Assert.True(e.Message.EndsWith("it may have been processed", StringComparison.Ordinal), e.Message);
            }
            using (var client = new SuperOfficeClient(new SuperOfficeClientOptions
            {
                BaseUrl = "http://127.0.0.1:" + RefusedPort() + "/Cust1", Ticket = Ticket, Proxy = "", MaxRetries = 0,
            }))
            {
                var e = Assert.Throws<SuperOfficeConnectionException>(() => client.SendCustomerCentrePasswordEmail(670, null, null, null));
                Assert.Equal(SuperOfficeDelivery.NotSent, e.Delivery, "refused");
                Assert.True(!e.MayHaveBeenSent, "a refused connection sent nothing");
                Assert.True(e.Message.EndsWith("it was not sent", StringComparison.Ordinal), e.Message);
            }
            string zero = Stub.Prefix("delivery-zero");
            using (var client = Client(zero + "/Cust12345"))
            {
                var e = Assert.Throws<SuperOfficeArgumentException>(() => client.SendCustomerCentrePasswordEmail(0, null, null, null));
                Assert.Equal(SuperOfficeDelivery.NotSent, e.Delivery, "person id 0");
            }
            Assert.Equal(0, Stub.Count(zero), "person id 0 sends nothing");
        }

        public static void Test_Delivery_UntrustedCertificateAndRefusedLoginAreNotSent()
        {
            var tls = (OrderedJsonObject)MiniJson.Parse(Stub.GetText("/_stub/tls"));
            long decrypted = Convert.ToInt64(tls["decrypted"], CultureInfo.InvariantCulture);
            using (var client = new SuperOfficeClient(new SuperOfficeClientOptions
            {
                BaseUrl = (string)tls["url"] + "/Cust12345", Ticket = Ticket, Proxy = "", MaxRetries = 0,
            }))
            {
                var e = Assert.Throws<SuperOfficeTlsException>(() => client.SendCustomerCentrePasswordEmail(670, null, null, null));
                Assert.Equal(SuperOfficeDelivery.NotSent, e.Delivery, "untrusted certificate");
                Assert.True(e.Message.Contains("not trusted"), e.Message);
            }
            var after = (OrderedJsonObject)MiniJson.Parse(Stub.GetText("/_stub/tls"));
            Assert.Equal(decrypted, Convert.ToInt64(after["decrypted"], CultureInfo.InvariantCulture), "requests the TLS listener decrypted");

            string prefix = Stub.Prefix("delivery-login") + "/login=refused";
            using (var client = new SuperOfficeClient(SystemUserOptions(prefix, "partner.pkcs8.pem")))
            {
                var e = Assert.Throws<SuperOfficeCredentialsException>(() => client.SendCustomerCentrePasswordEmail(670, null, null, null));
                Assert.Equal(SuperOfficeDelivery.NotSent, e.Delivery, "login refused");
                Assert.True(!e.MayHaveBeenSent, "no credential, no e-mail request");
            }
        }

        public static void Test_Delivery_BatchAndAsyncResults()
        {
            string prefix = Stub.Prefix("delivery-batch");
            var items = new[] { new SendItem(670, null, null, null), new SendItem(0, null, null, null), new SendItem(99999, null, null, null) };
            using (var client = Client(prefix + "/Cust12345"))
            {
                foreach (IReadOnlyList<SendResult> results in new[] { client.SendMany(items), client.SendManyAsync(items).GetAwaiter().GetResult() })
                {
                    Assert.Equal(SuperOfficeDelivery.Answered, results[0].Delivery, "204");
                    Assert.Equal(SuperOfficeDelivery.NotSent, results[1].Delivery, "person id 0");
                    Assert.Equal(SuperOfficeDelivery.Answered, results[2].Delivery, "404");
                    Assert.True(results[0].MayHaveBeenSent && !results[1].MayHaveBeenSent && !results[2].MayHaveBeenSent, "MayHaveBeenSent");
                    Assert.Equal(SuperOfficeDelivery.NotSent, ((ISuperOfficeError)results[1].ToException()).Delivery, "ToException");
                }
            }
            string reset = Stub.Prefix("delivery-batch-reset");
            using (var client = Client(reset + "/drop=reset/Cust12345"))
            {
                IReadOnlyList<SendResult> results = client.SendMany(new[] { new SendItem(670, null, null, null) });
                Assert.Equal(SuperOfficeDelivery.Unknown, results[0].Delivery, "reset, batch");
                var e = Assert.Throws<SuperOfficeIoException>(() => client.SendCustomerCentrePasswordEmailAsync(671, null, null, null).GetAwaiter().GetResult());
                Assert.Equal(SuperOfficeDelivery.Unknown, e.Delivery, "reset, async");
            }
        }

        public static void Test_Delivery_CancelledBeforeAndAfterStart()
        {
            string prefix = Stub.Prefix("delivery-cancel");
            using (var client = Client(prefix + "/hang/Cust12345", o => { o.MaxInFlight = 1; o.Timeout = System.Threading.Timeout.InfiniteTimeSpan; }))
            using (var first = new CancellationTokenSource())
            using (var second = new CancellationTokenSource())
            {
                Task onNetwork = client.SendCustomerCentrePasswordEmailAsync(670, null, null, null, first.Token);
                Task queued = client.SendCustomerCentrePasswordEmailAsync(671, null, null, null, second.Token);
                for (int i = 0; i < 500 && Stub.Count(prefix) < 1; i++)
                {
                    Thread.Sleep(5);
                }
                Assert.Equal(1, Stub.Count(prefix), "the first on the network");
                second.Cancel();
                var notSent = Assert.Throws<SuperOfficeOperationCanceledException>(() => queued.GetAwaiter().GetResult());
                Assert.True(queued.IsCanceled, "task status " + queued.Status);
                Assert.Equal(SuperOfficeDelivery.NotSent, notSent.Delivery, "cancelled before it started");
                Assert.True(!notSent.MayHaveBeenSent, "MayHaveBeenSent");
                Assert.Equal(second.Token, notSent.CancellationToken, "its token");
                first.Cancel();
                var unknown = Assert.Throws<SuperOfficeOperationCanceledException>(() => onNetwork.GetAwaiter().GetResult());
                Assert.True(onNetwork.IsCanceled, "task status " + onNetwork.Status);
                Assert.Equal(SuperOfficeDelivery.Unknown, unknown.Delivery, "cancelled on the network");
                Assert.True(unknown.MayHaveBeenSent, "MayHaveBeenSent");
            }
            Assert.Equal(1, Stub.Count(prefix), "the queued one was never sent");
            using (var client = Client(prefix + "-pre/Cust12345"))
            using (var cts = new CancellationTokenSource())
            {
                cts.Cancel();
                Task task = client.SendCustomerCentrePasswordEmailAsync(670, null, null, null, cts.Token);
                var e = Assert.Throws<SuperOfficeOperationCanceledException>(() => task.GetAwaiter().GetResult());
                Assert.Equal(SuperOfficeDelivery.NotSent, e.Delivery, "cancelled before the call");
                Assert.True(task.IsCanceled, "task status " + task.Status);
            }
        }

        // ----- the asynchronous send: native callbacks, real cancellation -----------------

        /// <summary>Cancels <paramref name="cts"/>: <paramref name="task"/> must end cancelled within 1 s (the time printed after <paramref name="what"/>).</summary>
        private static void CancelAndExpectPromptEnd(CancellationTokenSource cts, Task task, string what)
        {
            var watch = Stopwatch.StartNew();
            cts.Cancel();
            Assert.Throws<OperationCanceledException>(() => task.GetAwaiter().GetResult(), exact: false);
            double ms = watch.Elapsed.TotalMilliseconds;
            Console.WriteLine("     " + what + ": task ended after " + ms.ToString("F2", CultureInfo.InvariantCulture) + " ms");
            Assert.True(task.IsCanceled, "task status " + task.Status);
            Assert.True(ms < 1000, "cancellation took " + ms + " ms");
        }

        private static int PoolWorkersHeld()
        {
            int maxWorkers, maxIo, availableWorkers, availableIo;
            ThreadPool.GetMaxThreads(out maxWorkers, out maxIo);
            ThreadPool.GetAvailableThreads(out availableWorkers, out availableIo);
            return maxWorkers - availableWorkers;
        }

        public static void Test_Async_64ConcurrentSends_HoldNoPoolThread()
        {
            string prefix = Stub.Prefix("async-64");
            const int delayMs = 500;
            using (var client = Client(prefix + "/delay_ms=" + delayMs + "/Cust12345", o => o.MaxInFlight = 64))
            {
                int heldBefore = PoolWorkersHeld();
                var watch = Stopwatch.StartNew();
                Task[] tasks = Enumerable.Range(1, 64)
                    .Select(i => client.SendCustomerCentrePasswordEmailAsync(i, "a@example.com", "b" + i + "@example.com", "s"))
                    .ToArray();
                Thread.Sleep(delayMs / 2);
                int heldWhileWaiting = PoolWorkersHeld();
                bool allPending = tasks.All(t => !t.IsCompleted);
                Task.WhenAll(tasks).GetAwaiter().GetResult();
                long elapsed = watch.ElapsedMilliseconds;
                Console.WriteLine("     64 concurrent sends of " + delayMs + " ms: " + elapsed + " ms (ideal " + delayMs
                    + " ms; Task.Run took 5.5 s for 32); thread-pool workers held while waiting: " + heldWhileWaiting
                    + " (before: " + heldBefore + ")");
                Assert.True(allPending, "a send ended before the server answered");
                Assert.Equal(0, heldWhileWaiting, "thread-pool workers held while 64 sends wait");
            }
            Assert.Equal(64, Stub.Count(prefix), "requests");
        }

        public static void Test_Async_CancelBeforeTheSend_NeverSent()
        {
            string prefix = Stub.Prefix("async-cancel-queued");
            using (var client = Client(prefix + "/delay_ms=800/Cust12345", o => o.MaxInFlight = 1))
            using (var cts = new CancellationTokenSource())
            {
                Task first = client.SendCustomerCentrePasswordEmailAsync(670, "a@example.com", "b@example.com", "s");
                Task second = client.SendCustomerCentrePasswordEmailAsync(671, "a@example.com", "b@example.com", "s", cts.Token);
                Thread.Sleep(100);
                CancelAndExpectPromptEnd(cts, second, "queued send cancelled");
                first.GetAwaiter().GetResult();
            }
            List<StubRequest> all = Stub.Requests(prefix);
            Assert.Equal(1, all.Count, "requests");
            Assert.Equal(670, Convert.ToInt32(all[0].Json()["PersonId"]), "the request sent");
        }

        public static void Test_Async_CancelDuringTheSend_EndsAtOnce()
        {
            string prefix = Stub.Prefix("async-cancel-inflight");
            // Only the first request hangs; later ones are answered.
            using (var client = Client(prefix + "/fail_first=1/hang/Cust12345", o => o.Timeout = System.Threading.Timeout.InfiniteTimeSpan))
            using (var cts = new CancellationTokenSource())
            {
                Task send = client.SendCustomerCentrePasswordEmailAsync(670, "a@example.com", "b@example.com", "s", cts.Token);
                for (int i = 0; i < 500 && Stub.Count(prefix) < 1; i++)
                {
                    Thread.Sleep(5);
                }
                Assert.Equal(1, Stub.Count(prefix), "requests that reached the server");
                CancelAndExpectPromptEnd(cts, send, "send on the network cancelled");
                // The client goes on: the worker that was interrupted makes a fresh connection pool.
                client.SendCustomerCentrePasswordEmailAsync(670, "a@example.com", "b@example.com", "s").GetAwaiter().GetResult();
            }
        }

        public static void Test_Async_DisposeWithSendsOutstanding_CancelsThem()
        {
            string prefix = Stub.Prefix("async-dispose");
            var client = Client(prefix + "/hang/Cust12345", o => { o.Timeout = System.Threading.Timeout.InfiniteTimeSpan; o.MaxInFlight = 4; });
            Task[] tasks = Enumerable.Range(1, 12)
                .Select(i => client.SendCustomerCentrePasswordEmailAsync(i, "a@example.com", "b@example.com", "s"))
                .ToArray();
            for (int i = 0; i < 500 && Stub.Count(prefix) < 4; i++)
            {
                Thread.Sleep(5);
            }
            var watch = Stopwatch.StartNew();
            client.Dispose();
            long disposeMs = watch.ElapsedMilliseconds;
            Assert.True(Task.WaitAll(tasks.Select(t => (Task)t.ContinueWith(_ => { })).ToArray(), 5000), "tasks did not end after Dispose");
            Console.WriteLine("     Dispose with 12 sends outstanding: " + disposeMs + " ms");
            foreach (Task t in tasks)
            {
                var e = Assert.Throws<SuperOfficeOperationCanceledException>(() => t.GetAwaiter().GetResult());
                Assert.Equal(SuperOfficeResult.Cancelled, e.Code, "Code");
                Assert.True(e is OperationCanceledException, "not an OperationCanceledException");
            }
            Assert.True(tasks.Any(t => t.Exception.InnerException.Message.Contains("may already have received")), "no send was on the network");
            Assert.True(tasks.Any(t => t.Exception.InnerException.Message.Contains("before it was sent")), "no send was queued");
            Assert.Throws<ObjectDisposedException>(() => client.SendCustomerCentrePasswordEmailAsync(670, "a", "b", "c"));
            Assert.Equal(4, Stub.Count(prefix), "requests");
        }

        public static void Test_SendManyAsync_CancelledToken_CancelsTheRest()
        {
            string prefix = Stub.Prefix("async-many-cancel");
            using (var client = Client(prefix + "/delay_ms=300/Cust12345", o => o.MaxInFlight = 2))
            using (var cts = new CancellationTokenSource())
            {
                Task<IReadOnlyList<SendResult>> batch = client.SendManyAsync(
                    Enumerable.Range(1, 10).Select(i => new SendItem(i, "a@example.com", "b@example.com", "s")).ToList(), 2, null, cts.Token);
                Thread.Sleep(100);
                cts.Cancel();
                Assert.Throws<OperationCanceledException>(() => batch.GetAwaiter().GetResult(), exact: false);
            }
            Assert.True(Stub.Count(prefix) <= 2, "requests after the cancel: " + Stub.Count(prefix));
        }

        // ----- batch and tenant lookup ----------------------------------------------------

        public static void Test_SendManyAsync_ResultsAndProgress()
        {
            string prefix = Stub.Prefix("batch");
            var items = new List<SendItem>();
            for (int i = 1; i <= 20; i++)
            {
                items.Add(new SendItem(i % 7 == 0 ? 99999 : i, "a@example.com", "to" + i + "@example.com", i % 5 == 0 ? null : "Subject ✓ " + i));
            }
            var progress = new RecordingProgress();
            IReadOnlyList<SendResult> results;
            using (var client = Client(prefix + "/Cust12345"))
            {
                results = client.SendManyAsync(items, 4, progress).GetAwaiter().GetResult();
            }
            Assert.Equal(20, results.Count, "results");
            for (int i = 0; i < 20; i++)
            {
                SendResult r = results[i];
                Assert.Equal(i, r.Index, "Index");
                if (items[i].PersonId == 99999)
                {
                    Assert.True(!r.Success, "item " + i + " should fail");
                    Assert.Equal(SuperOfficeResult.NotFound, r.Code, "Code of item " + i);
                    Assert.Equal(404, r.HttpStatus, "HttpStatus of item " + i);
                    Assert.Equal("SoNotFoundException", r.ErrorType, "ErrorType of item " + i);
                    Assert.True(r.Message != null && r.Message.Contains("99999"), "Message of item " + i + ": " + r.Message);
                    Assert.True(r.ToException() is SuperOfficeNotFoundException, "ToException of item " + i);
                }
                else
                {
                    Assert.True(r.Success, "item " + i + ": " + r);
                    Assert.Equal(null, r.Message, "Message of item " + i);
                    Assert.Equal(null, r.ToException(), "ToException of item " + i);
                }
            }
            List<StubRequest> all = Stub.Requests(prefix);
            Assert.Equal(20, all.Count, "requests");
            var subjects = new HashSet<string>(all.Select(r => (string)r.Json()["Subject"] ?? "<null>"));
            Assert.True(subjects.Contains("Subject ✓ 1") && subjects.Contains("<null>"), "subjects: " + string.Join(", ", subjects));
            List<BatchProgress> reports = progress.Reports;
            Assert.True(reports.Count > 0, "no progress report");
            Assert.True(reports.All(p => p.Total == 20 && p.Done >= 0 && p.Done <= 20), "reports: " + string.Join(" ", reports));
            Assert.Equal(20L, reports.Max(p => p.Done), "highest Done");
        }

        public static void Test_SendMany_EmptyAndAllOk()
        {
            string prefix = Stub.Prefix("batch-ok");
            using (var client = Client(prefix + "/Cust12345"))
            {
                Assert.Equal(0, client.SendManyAsync(new SendItem[0]).GetAwaiter().GetResult().Count, "empty batch");
                IReadOnlyList<SendResult> results = client.SendMany(Enumerable.Range(1, 50).Select(i => new SendItem(i, "a@example.com", "b@example.com", "s")).ToList(), 16);
                Assert.True(results.All(r => r.Success), "failures: " + string.Join("; ", results.Where(r => !r.Success)));
            }
            Assert.Equal(50, Stub.Count(prefix), "requests");
        }

        public static void Test_SendMany_CallbacksFromLibraryThreads()
        {
            string prefix = Stub.Prefix("batch-callbacks");
            int refreshes = 0, logLines = 0;
            var threads = new HashSet<int>();
            using (var client = Client(prefix + "/Cust12345", o =>
            {
                o.Ticket = "7T:expired";
                o.CredentialsCallback = () => { Interlocked.Increment(ref refreshes); return "fresh-batch"; };
                o.Log = (level, message) =>
                {
                    Interlocked.Increment(ref logLines);
                    lock (threads) { threads.Add(Thread.CurrentThread.ManagedThreadId); }
                    throw new InvalidOperationException("a throwing log callback must not break sends");
                };
            }))
            {
                IReadOnlyList<SendResult> results = client.SendManyAsync(
                    Enumerable.Range(1, 40).Select(i => new SendItem(i, "a@example.com", "b@example.com", "s")).ToList(), 8).GetAwaiter().GetResult();
                Assert.True(results.All(r => r.Success), "failures: " + string.Join("; ", results.Where(r => !r.Success)));
            }
            Assert.True(refreshes >= 1, "the credentials callback was not called");
            Assert.True(logLines >= 40, "log lines: " + logLines);
            Console.WriteLine("     " + refreshes + " credential refresh(es), " + logLines + " log lines on " + threads.Count + " thread(s)");
            List<StubRequest> all = Stub.Requests(prefix);
            Assert.True(all.Count(r => r.Header("Authorization") == "SOTicket fresh-batch") == 40, "requests with the fresh ticket: "
                + all.Count(r => r.Header("Authorization") == "SOTicket fresh-batch") + " of " + all.Count);
        }

        public static void Test_SendMany_RefusedBatchThrows_BadItemIsItsOwnResult()
        {
            string prefix = Stub.Prefix("batch-args");
            using (var client = Client(prefix + "/Cust12345"))
            {
                var e = Assert.Throws<SuperOfficeArgumentException>(() => client.SendMany(new[] { new SendItem(670, "a", "b", "c") }, 65));
                Assert.Equal(SuperOfficeResult.InvalidArgument, e.Code, "Code for maxConcurrency 65");
                Assert.Equal(0, Stub.Count(prefix), "requests after a refused batch");

                IReadOnlyList<SendResult> results = client.SendMany(new[] { new SendItem(-1, "a", "b", "c"), new SendItem(670, "a", "b", "c") });
                Assert.Equal(SuperOfficeResult.InvalidArgument, results[0].Code, "Code of the item with person id -1");
                Assert.Equal(0, results[0].HttpStatus, "HttpStatus of the item with person id -1");
                Assert.True(results[0].ToException() is SuperOfficeArgumentException, "ToException of the item with person id -1");
                Assert.True(results[1].Success, "the valid item: " + results[1]);
                IReadOnlyList<SendResult> viaAsync = client.SendManyAsync(new[] { new SendItem(-1, "a", "b", "c"), new SendItem(670, "a", "b", "c") }).GetAwaiter().GetResult();
                Assert.Equal(SuperOfficeResult.InvalidArgument, viaAsync[0].Code, "SendManyAsync: Code of the item with person id -1");
                Assert.True(viaAsync[1].Success, "SendManyAsync: the valid item: " + viaAsync[1]);
            }
            Assert.Equal(2, Stub.Count(prefix), "requests (one from SendMany, one from SendManyAsync)");
        }

        public static void Test_LookupTenantApiUrl()
        {
            int before = Stub.Count("/api/state/Cust12345");
            Assert.Equal(Stub.Url + "/Cust12345/api", SuperOfficeClient.LookupTenantApiUrl("Cust12345", Stub.Url), "Cust12345");
            Assert.Equal(1, Stub.Count("/api/state/Cust12345") - before, "one lookup: no guessing loop");
            Assert.True(SuperOfficeClient.LookupTenantApiUrl("CustOM", Stub.Url).Length > 0, "CustOM (OnlineMaintenance is running)");
            Assert.Equal(Stub.Url + "/Cust12345/api", SuperOfficeClient.LookupTenantApiUrlAsync("Cust12345", Stub.Url).GetAwaiter().GetResult(), "async");
            foreach (string stopped in new[] { "CustMaint", "CustSusp" })
            {
                var e = Assert.Throws<SuperOfficeTenantUnavailableException>(() => SuperOfficeClient.LookupTenantApiUrl(stopped, Stub.Url));
                Assert.Equal(SuperOfficeResult.TenantUnavailable, e.Code, "Code for " + stopped);
            }
            var missing = Assert.Throws<SuperOfficeException>(() => SuperOfficeClient.LookupTenantApiUrl("CustNope", Stub.Url), exact: false);
            Assert.Equal(404, missing.HttpStatus, "HttpStatus for an unknown tenant");
        }

        // ----- contract hardening: .NET exception families, the library's rules -------------

        public static void Test_Exceptions_AreInTheDotNetFamilies()
        {
            try
            {
                new SuperOfficeClient(new SuperOfficeClientOptions { BaseUrl = "not a url", Ticket = Ticket });
                throw new AssertionException("a malformed base URL was accepted");
            }
            catch (ArgumentException e)
            {
                Assert.True(e is ISuperOfficeError, "not an ISuperOfficeError: " + e.GetType());
                Assert.Equal(SuperOfficeResult.InvalidArgument, ((ISuperOfficeError)e).Code, "Code");
            }
            using (var client = Client(Stub.Prefix("timeout-family") + "/delay_ms=2000/Cust12345", o => { o.Timeout = TimeSpan.FromMilliseconds(300); o.MaxRetries = 0; }))
            {
                try
                {
                    client.SendCustomerCentrePasswordEmail(670, null, null, null);
                    throw new AssertionException("no timeout");
                }
                catch (TimeoutException e)
                {
                    Assert.Equal(SuperOfficeResult.Timeout, ((ISuperOfficeError)e).Code, "Code");
                }
            }
            Assert.True(typeof(ArgumentException).IsAssignableFrom(typeof(SuperOfficeArgumentException)), "argument");
            Assert.True(typeof(TimeoutException).IsAssignableFrom(typeof(SuperOfficeTimeoutException)), "timeout");
            // Every exception of the binding: an ISuperOfficeError with (message) and (message, inner);
            // an abstract family has subclasses instead.
            Type[] exceptions = typeof(SuperOfficeClient).Assembly.GetExportedTypes()
                .Where(t => typeof(Exception).IsAssignableFrom(t)).ToArray();
            Assert.True(exceptions.Length >= 15, "exception types: " + exceptions.Length);
            foreach (Type t in exceptions)
            {
                Assert.True(typeof(ISuperOfficeError).IsAssignableFrom(t), t.Name + " is not an ISuperOfficeError");
                if (t.IsAbstract)
                {
                    // A family to catch (SuperOfficeRecipientException), never thrown itself.
                    Assert.True(exceptions.Any(u => u.BaseType == t), t.Name + " is abstract and has no subclass");
                    continue;
                }
                Assert.True(t.GetConstructor(new[] { typeof(string) }) != null, t.Name + " lacks (message)");
                Assert.True(t.GetConstructor(new[] { typeof(string), typeof(Exception) }) != null, t.Name + " lacks (message, inner)");
                var inner = new InvalidOperationException("inner");
                var made = (Exception)Activator.CreateInstance(t, "outer", inner);
                Assert.Equal("outer", made.Message, t.Name + " message");
                Assert.True(ReferenceEquals(inner, made.InnerException), t.Name + " inner");
            }
        }

        public static void Test_AuthSchemes_TheLibrarysRule_LastSetWins()
        {
            string prefix = Stub.Prefix("schemes");
            using (var client = Client(prefix + "/Cust12345", o => { o.Ticket = "7T:replaced"; o.BearerToken = Bearer; }))
            {
                client.SendCustomerCentrePasswordEmail(670, null, null, null);
            }
            Assert.Equal("Bearer " + Bearer, Stub.Single(prefix).Header("Authorization"), "Authorization");
        }

        public static void Test_InternationalHostName()
        {
            new SuperOfficeClient(new SuperOfficeClientOptions { BaseUrl = "https://crm.b\u00e6k.no/SuperOffice", Ticket = Ticket }).Dispose();
            var e = Assert.Throws<SuperOfficeArgumentException>(() => new SuperOfficeClient(new SuperOfficeClientOptions { BaseUrl = "https://ok.xn--zz-.no/x", Ticket = Ticket }));
            Assert.True(e.Message.Contains("not valid under IDNA") && e.Message.Contains("'xn--zz-'"), e.Message);
        }

        // ----- the sample, and memory ----------------------------------------------------

        public static void Test_Sample_Flow()
        {
            string exe = Path.Combine(AppDomain.CurrentDomain.BaseDirectory, "SendPasswordEmail.exe");
            Assert.True(File.Exists(exe), exe + " is missing (build it with run-tests.sh)");
            string prefix = Stub.Prefix("sample");
            var env = new Dictionary<string, string>
            {
                { "SO_BASE_URL", Stub.Url + prefix + "/Cust12345" },
                { "SO_APP_TOKEN", "app-secret-123" },
                { "SO_LANGUAGE", "sv" },
                { "SO_TO", "kari@example.com" },
            };
            ProcessResult ok = ProcessResult.Run(exe, env);
            Assert.Equal(0, ok.ExitCode, "exit code; output: " + ok.Output);
            StubRequest r = Stub.Single(prefix);
            Assert.Equal("SOTicket " + Ticket, r.Header("Authorization"), "Authorization");
            Assert.Equal("app-secret-123", r.Header("SO-AppToken"), "SO-AppToken");
            Assert.Equal(670.0, r.Json()["PersonId"], "PersonId");
            Assert.Equal("kari@example.com", r.Json()["To"], "To");

            env["SO_PERSON_ID"] = "99999";
            ProcessResult failed = ProcessResult.Run(exe, env);
            Assert.Equal(1, failed.ExitCode, "exit code for a missing person; output: " + failed.Output);
            Assert.True(failed.Output.Contains("404") && failed.Output.Contains("SoNotFoundException"), "output: " + failed.Output);

            env.Remove("SO_PERSON_ID");
            env["SO_BASE_URL"] = Stub.Url + prefix + "/status=403/Cust12345";
            env["SO_USERNAME"] = "tje0";
            env["SO_PASSWORD"] = "Tje0";
            ProcessResult forbidden = ProcessResult.Run(exe, env);
            Assert.Equal(1, forbidden.ExitCode, "exit code for 403; output: " + forbidden.Output);
            Assert.True(!forbidden.Output.Contains("Tje0"), "the output shows the password: " + forbidden.Output);
            Assert.Equal("Basic dGplMDpUamUw", Stub.Requests(prefix).Last().Header("Authorization"), "Authorization with SO_USERNAME/SO_PASSWORD");
            Assert.Equal(3, Stub.Count(prefix), "requests");
        }

        public static void Test_TenThousandSends_NoMemoryGrowth()
        {
            string prefix = Stub.Prefix("memory");
            using (var client = Client(prefix + "/Cust12345"))
            {
                Action<int> send = n =>
                {
                    for (int i = 0; i < n; i++)
                    {
                        client.SendCustomerCentrePasswordEmail(670, "support@example.com", "kari@example.com", "Your password " + i);
                        if (i % 97 == 0)
                        {
                            // Errors too: they set the thread's last error and build exceptions.
                            try { client.SendCustomerCentrePasswordEmail(99999, "a", "b", "c"); }
                            catch (SuperOfficeNotFoundException) { }
                        }
                    }
                };
                send(1000);
                long rss0 = Memory.ResidentBytes(), gc0 = Memory.ManagedBytes();
                var watch = Stopwatch.StartNew();
                send(10000);
                long rss1 = Memory.ResidentBytes(), gc1 = Memory.ManagedBytes();
                Console.WriteLine("     10,000 sends in " + watch.ElapsedMilliseconds + " ms; RSS " + Memory.Mb(rss0) + " -> " + Memory.Mb(rss1)
                    + ", managed " + Memory.Mb(gc0) + " -> " + Memory.Mb(gc1));
                Assert.True(rss1 - rss0 < 8L << 20, "RSS grew by " + Memory.Mb(rss1 - rss0));
                Assert.True(gc1 - gc0 < 2L << 20, "managed heap grew by " + Memory.Mb(gc1 - gc0));
            }
            Assert.True(Stub.Count(prefix) >= 11000, "requests: " + Stub.Count(prefix));
        }

        public static void Test_TenThousandBatchItems_NoMemoryGrowth()
        {
            string prefix = Stub.Prefix("memory-batch");
            List<SendItem> items = Enumerable.Range(1, 50)
                .Select(i => new SendItem(i % 5 == 0 ? 99999 : i, "support@example.com", "kari@example.com", "Subject ✓ " + i))
                .ToList();
            using (var client = Client(prefix + "/Cust12345"))
            {
                var progress = new CountingProgress();
                Action<int> run = batches =>
                {
                    for (int b = 0; b < batches; b++)
                    {
                        IReadOnlyList<SendResult> results = client.SendMany(items, 8, progress);
                        Assert.Equal(10, results.Count(r => r.Code == SuperOfficeResult.NotFound), "failed items per batch");
                    }
                };
                run(100); // warm-up: the library's worker threads and their malloc arenas
                long rss0 = Memory.ResidentBytes(), gc0 = Memory.ManagedBytes();
                run(200);
                long rss1 = Memory.ResidentBytes(), gc1 = Memory.ManagedBytes();
                Console.WriteLine("     200 batches of 50: RSS " + Memory.Mb(rss0) + " -> " + Memory.Mb(rss1)
                    + ", managed " + Memory.Mb(gc0) + " -> " + Memory.Mb(gc1) + ", " + progress.Count + " progress reports");
                Assert.True(rss1 - rss0 < 8L << 20, "RSS grew by " + Memory.Mb(rss1 - rss0));
                Assert.True(gc1 - gc0 < 2L << 20, "managed heap grew by " + Memory.Mb(gc1 - gc0));
            }
            Assert.Equal(15000, Stub.Count(prefix), "requests");
        }

        // ----- helpers -------------------------------------------------------------------

        private static SuperOfficeClient Client(string tenantPath, Action<SuperOfficeClientOptions> configure = null)
        {
            var options = new SuperOfficeClientOptions
            {
                BaseUrl = Stub.Url + tenantPath,
                Ticket = Ticket,
                Proxy = "", // loopback: ignore any proxy environment variables of the machine
            };
            if (configure != null)
            {
                configure(options);
            }
            return new SuperOfficeClient(options);
        }

        private static void ExpectStatus(int status, Type expected, SuperOfficeResult code, string errorType)
        {
            string prefix = Stub.Prefix("status-" + status);
            using (var client = Client(prefix + "/status=" + status + "/Cust12345", o => o.MaxRetries = 0))
            {
                SuperOfficeException e = null;
                try
                {
                    client.SendCustomerCentrePasswordEmail(670, "a@example.com", "b@example.com", "s");
                }
                catch (SuperOfficeException caught)
                {
                    e = caught;
                }
                Assert.True(e != null, "no exception for status " + status);
                Assert.Equal(expected, e.GetType(), "exception type for " + status + " (" + e.Message + ")");
                Assert.True(e is SuperOfficeHttpException, "not a SuperOfficeHttpException");
                Assert.Equal(code, e.Code, "Code");
                Assert.Equal(status, e.HttpStatus, "HttpStatus");
                Assert.Equal(errorType, e.ErrorType, "ErrorType");
                Assert.True(e.Message.Length > 0, "empty message");
            }
            Assert.Equal(1, Stub.Count(prefix), "requests with retries disabled");
        }

        private static int FreePort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }

        private sealed class CountingProgress : IProgress<BatchProgress>
        {
            private long _count;

            public long Count
            {
                get { return Interlocked.Read(ref _count); }
            }

            public void Report(BatchProgress value)
            {
                Interlocked.Increment(ref _count);
            }
        }

        private sealed class RecordingProgress : IProgress<BatchProgress>
        {
            private readonly List<BatchProgress> _reports = new List<BatchProgress>();

            public List<BatchProgress> Reports
            {
                get { lock (_reports) { return new List<BatchProgress>(_reports); } }
            }

            public void Report(BatchProgress value)
            {
                lock (_reports)
                {
                    _reports.Add(value);
                }
            }
        }
    }

    // ----------------------------------------------------------------------------------------
    // Infrastructure: assertions, the stub's request log, a tiny JSON reader, processes, memory
    // ----------------------------------------------------------------------------------------

    public sealed class AssertionException : Exception
    {
        public AssertionException(string message) : base(message) { }
    }

    public static class Assert
    {
        public static void True(bool condition, string message)
        {
            if (!condition)
            {
                throw new AssertionException(message);
            }
        }

        public static void Equal(object expected, object actual, string what)
        {
            if (!object.Equals(expected, actual))
            {
                throw new AssertionException(what + ": expected " + Show(expected) + ", got " + Show(actual));
            }
        }

        /// <summary>Runs <paramref name="action"/>; it must throw <typeparamref name="T"/> (exactly, unless <paramref name="exact"/> is false).</summary>
        public static T Throws<T>(Action action, bool exact = true) where T : Exception
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                if (e is T && (!exact || e.GetType() == typeof(T)))
                {
                    return (T)e;
                }
                throw new AssertionException("expected " + typeof(T).Name + ", got " + e.GetType().Name + ": " + e.Message);
            }
            throw new AssertionException("expected " + typeof(T).Name + ", nothing was thrown");
        }

        public static T Throws<T>(Func<object> func, bool exact = true) where T : Exception
        {
            return Throws<T>(() => { func(); }, exact);
        }

        private static string Show(object value)
        {
            return value == null ? "null" : value is string ? "\"" + value + "\"" : value.ToString();
        }
    }

    /// <summary>One recorded request: <c>{"method","path","query","headers":[[name,value],...],"body"}</c>.</summary>
    public sealed class StubRequest
    {
        private readonly Dictionary<string, object> _fields;

        public StubRequest(Dictionary<string, object> fields)
        {
            _fields = fields;
        }

        public string Method { get { return _fields["method"] as string; } }
        public string Path { get { return _fields["path"] as string; } }
        public string Query { get { object q; return _fields.TryGetValue("query", out q) ? q as string : null; } }
        public string Body { get { return _fields["body"] as string; } }

        /// <summary>The value of the header <paramref name="name"/> (case-insensitive), <c>null</c> when absent.</summary>
        public string Header(string name)
        {
            foreach (object pair in (List<object>)_fields["headers"])
            {
                var nameValue = (List<object>)pair;
                if (string.Equals((string)nameValue[0], name, StringComparison.OrdinalIgnoreCase))
                {
                    return (string)nameValue[1];
                }
            }
            return null;
        }

        /// <summary>The body parsed as a JSON object, keys in their order.</summary>
        public OrderedJsonObject Json()
        {
            return (OrderedJsonObject)MiniJson.Parse(Body);
        }
    }

    public static class Stub
    {
        private static readonly string RunId = DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture) + "-" + Process.GetCurrentProcess().Id;

        public static string Url;

        /// <summary>A tenant-path prefix no other test (or run) uses.</summary>
        public static string Prefix(string test)
        {
            return "/cs-" + test + "-" + RunId;
        }

        public static List<StubRequest> Requests(string prefix)
        {
            var list = (List<object>)MiniJson.Parse(Get("/_stub/requests?prefix=" + Uri.EscapeDataString(prefix)));
            return list.Select(o => new StubRequest((OrderedJsonObject)o)).ToList();
        }

        public static StubRequest Single(string prefix)
        {
            List<StubRequest> all = Requests(prefix);
            Assert.Equal(1, all.Count, "requests recorded under " + prefix);
            return all[0];
        }

        public static int Count(string prefix)
        {
            var doc = (OrderedJsonObject)MiniJson.Parse(Get("/_stub/count?prefix=" + Uri.EscapeDataString(prefix)));
            return Convert.ToInt32(doc["count"], CultureInfo.InvariantCulture);
        }

        /// <summary>
        /// GET on the stub with a blocking socket and HTTP/1.1 + Connection: close. Not
        /// HttpWebRequest: Mono 6.8 runs its sockets through the thread pool's I/O selector
        /// thread, which was seen to crash the runtime (SIGABRT) at process exit.
        /// </summary>
        /// <summary>The body of a GET on the stub (a control endpoint).</summary>
        public static string GetText(string pathAndQuery)
        {
            return Get(pathAndQuery);
        }

        private static string Get(string pathAndQuery)
        {
            var uri = new Uri(Url);
            using (var tcp = new TcpClient())
            {
                tcp.ReceiveTimeout = 10000;
                tcp.SendTimeout = 10000;
                tcp.Connect(uri.Host, uri.Port);
                NetworkStream stream = tcp.GetStream();
                byte[] request = Encoding.ASCII.GetBytes("GET " + pathAndQuery + " HTTP/1.1\r\nHost: " + uri.Authority
                    + "\r\nAccept: application/json\r\nConnection: close\r\n\r\n");
                stream.Write(request, 0, request.Length);
                var received = new MemoryStream();
                var buffer = new byte[65536];
                int n;
                while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
                {
                    received.Write(buffer, 0, n);
                }
                byte[] all = received.ToArray();
                int headerEnd = IndexOf(all, Encoding.ASCII.GetBytes("\r\n\r\n"));
                if (headerEnd < 0)
                {
                    throw new IOException("stub: no complete answer to GET " + pathAndQuery);
                }
                string head = Encoding.ASCII.GetString(all, 0, headerEnd);
                if (!head.StartsWith("HTTP/1.1 200 ", StringComparison.Ordinal))
                {
                    throw new IOException("stub: GET " + pathAndQuery + " answered " + head.Split('\r')[0]);
                }
                int bodyStart = headerEnd + 4;
                int bodyLength = all.Length - bodyStart;
                foreach (string line in head.Split(new[] { "\r\n" }, StringSplitOptions.None))
                {
                    if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                    {
                        bodyLength = Math.Min(bodyLength, int.Parse(line.Substring(15).Trim(), CultureInfo.InvariantCulture));
                    }
                }
                return Encoding.UTF8.GetString(all, bodyStart, bodyLength);
            }
        }

        private static int IndexOf(byte[] haystack, byte[] needle)
        {
            for (int i = 0; i + needle.Length <= haystack.Length; i++)
            {
                int j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j])
                {
                    j++;
                }
                if (j == needle.Length)
                {
                    return i;
                }
            }
            return -1;
        }
    }

    /// <summary>A JSON object that keeps its keys in document order.</summary>
    public sealed class OrderedJsonObject : Dictionary<string, object>
    {
        private readonly List<string> _order = new List<string>();

        public new IEnumerable<string> Keys { get { return _order; } }

        public new void Add(string key, object value)
        {
            base.Add(key, value);
            _order.Add(key);
        }
    }

    /// <summary>
    /// Just enough JSON for the stub's log: objects (<see cref="OrderedJsonObject"/>), arrays
    /// (<c>List&lt;object&gt;</c>), strings, numbers (double), true/false/null.
    /// </summary>
    public static class MiniJson
    {
        public static object Parse(string text)
        {
            int i = 0;
            object value = ParseValue(text, ref i);
            SkipSpace(text, ref i);
            if (i != text.Length)
            {
                throw new FormatException("trailing characters at " + i);
            }
            return value;
        }

        private static object ParseValue(string s, ref int i)
        {
            SkipSpace(s, ref i);
            if (i >= s.Length)
            {
                throw new FormatException("unexpected end of JSON");
            }
            char c = s[i];
            if (c == '{')
            {
                var obj = new OrderedJsonObject();
                i++;
                SkipSpace(s, ref i);
                if (s[i] == '}') { i++; return obj; }
                while (true)
                {
                    SkipSpace(s, ref i);
                    string key = ParseString(s, ref i);
                    SkipSpace(s, ref i);
                    Expect(s, ref i, ':');
                    obj.Add(key, ParseValue(s, ref i));
                    SkipSpace(s, ref i);
                    if (s[i] == ',') { i++; continue; }
                    Expect(s, ref i, '}');
                    return obj;
                }
            }
            if (c == '[')
            {
                var list = new List<object>();
                i++;
                SkipSpace(s, ref i);
                if (s[i] == ']') { i++; return list; }
                while (true)
                {
                    list.Add(ParseValue(s, ref i));
                    SkipSpace(s, ref i);
                    if (s[i] == ',') { i++; continue; }
                    Expect(s, ref i, ']');
                    return list;
                }
            }
            if (c == '"')
            {
                return ParseString(s, ref i);
            }
            if (string.CompareOrdinal(s, i, "true", 0, 4) == 0) { i += 4; return true; }
            if (string.CompareOrdinal(s, i, "false", 0, 5) == 0) { i += 5; return false; }
            if (string.CompareOrdinal(s, i, "null", 0, 4) == 0) { i += 4; return null; }
            int start = i;
            while (i < s.Length && "+-0123456789.eE".IndexOf(s[i]) >= 0)
            {
                i++;
            }
            if (start == i)
            {
                throw new FormatException("unexpected '" + c + "' at " + i);
            }
            return double.Parse(s.Substring(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        private static string ParseString(string s, ref int i)
        {
            Expect(s, ref i, '"');
            var sb = new StringBuilder();
            while (s[i] != '"')
            {
                char c = s[i++];
                if (c != '\\')
                {
                    sb.Append(c);
                    continue;
                }
                char e = s[i++];
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        sb.Append((char)int.Parse(s.Substring(i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                        i += 4;
                        break;
                    default: throw new FormatException("bad escape \\" + e);
                }
            }
            i++;
            return sb.ToString();
        }

        private static void SkipSpace(string s, ref int i)
        {
            while (i < s.Length && char.IsWhiteSpace(s[i]))
            {
                i++;
            }
        }

        private static void Expect(string s, ref int i, char c)
        {
            if (i >= s.Length || s[i] != c)
            {
                throw new FormatException("expected '" + c + "' at " + i);
            }
            i++;
        }
    }

    public sealed class ProcessResult
    {
        public int ExitCode;
        public string Output;

        /// <summary>Runs a .NET program with this runtime (mono), extra environment variables, stdout+stderr captured.</summary>
        public static ProcessResult Run(string exe, Dictionary<string, string> env)
        {
            string runtime = Type.GetType("Mono.Runtime") != null ? "mono" : null;
            var info = new ProcessStartInfo(runtime ?? exe, runtime != null ? "\"" + exe + "\"" : "")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (KeyValuePair<string, string> kv in env)
            {
                info.EnvironmentVariables[kv.Key] = kv.Value;
            }
            using (Process process = Process.Start(info))
            {
                Task<string> stderr = process.StandardError.ReadToEndAsync();
                string stdout = process.StandardOutput.ReadToEnd();
                if (!process.WaitForExit(60000))
                {
                    process.Kill();
                    throw new AssertionException(exe + " did not finish within 60 s");
                }
                return new ProcessResult { ExitCode = process.ExitCode, Output = stdout + stderr.Result };
            }
        }
    }

    public static class Memory
    {
        /// <summary>Resident set size from /proc/self/statm (pages), else WorkingSet64.</summary>
        public static long ResidentBytes()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            try
            {
                string[] fields = File.ReadAllText("/proc/self/statm").Split(' ');
                return long.Parse(fields[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
            }
            catch (IOException)
            {
                return Process.GetCurrentProcess().WorkingSet64;
            }
        }

        public static long ManagedBytes()
        {
            return GC.GetTotalMemory(true);
        }

        public static string Mb(long bytes)
        {
            return (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB";
        }
    }
}

// Sends one Customer Centre password e-mail through libsuperoffice and prints the outcome.
//
// Environment:
//   SO_BASE_URL      tenant or installation URL (default: $SO_STUB_URL/Cust12345)
//   SO_TICKET | SO_BEARER_TOKEN | SO_USERNAME + SO_PASSWORD
//                    credentials (default with the stub: ticket 7T:dGVzdA==)
//   SO_APP_TOKEN, SO_LANGUAGE        optional SO-AppToken and language
//   SO_PERSON_ID     person id (default 670)
//   SO_FROM, SO_TO, SO_SUBJECT       e-mail fields
// Exit status: 0 when the server accepted the request, 1 on any error.

using System;
using System.Globalization;
using System.Threading.Tasks;
using SuperOffice.Ffi;

internal static class SendPasswordEmail
{
    private static int Main()
    {
        // mcs (Mono) has no async Main; with a modern SDK this can be `static async Task<int> Main()`.
        return RunAsync().GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync()
    {
        try
        {
            string stubUrl = Env("SO_STUB_URL", null);
            string baseUrl = Env("SO_BASE_URL", stubUrl != null ? stubUrl.TrimEnd('/') + "/Cust12345" : null);
            if (baseUrl == null)
            {
                Console.Error.WriteLine("error: set SO_BASE_URL (or SO_STUB_URL when testing against the stub).");
                return 1;
            }
            int personId;
            string personText = Env("SO_PERSON_ID", "670");
            if (!int.TryParse(personText, NumberStyles.Integer, CultureInfo.InvariantCulture, out personId))
            {
                Console.Error.WriteLine("error: SO_PERSON_ID must be a number, not '" + personText + "'.");
                return 1;
            }

            var options = new SuperOfficeClientOptions
            {
                BaseUrl = baseUrl,
                AppToken = Env("SO_APP_TOKEN", null),
                Language = Env("SO_LANGUAGE", null),
            };
            if (Env("SO_TICKET", null) != null)
            {
                options.Ticket = Env("SO_TICKET", null);
            }
            else if (Env("SO_BEARER_TOKEN", null) != null)
            {
                options.BearerToken = Env("SO_BEARER_TOKEN", null);
            }
            else if (Env("SO_USERNAME", null) != null)
            {
                options.Username = Env("SO_USERNAME", null);
                options.Password = Env("SO_PASSWORD", "");
            }
            else if (stubUrl != null)
            {
                options.Ticket = "7T:dGVzdA=="; // the stub's valid ticket
            }

            string from = Env("SO_FROM", "support@example.com");
            string to = Env("SO_TO", "kari@example.com");
            string subject = Env("SO_SUBJECT", "Your password");

            Console.WriteLine("libsuperoffice " + SuperOfficeClient.NativeVersion + ": sending the Customer Centre password e-mail of person "
                + personId + " to " + to + " via " + baseUrl);
            using (var client = new SuperOfficeClient(options))
            {
                await client.SendCustomerCentrePasswordEmailAsync(personId, from, to, subject);
            }
            Console.WriteLine("OK: the server accepted the request.");
            return 0;
        }
        catch (Exception e) when (e is ISuperOfficeError)
        {
            // Every failure of the library, whatever its .NET family (ArgumentException,
            // TimeoutException, SuperOfficeException).
            var error = (ISuperOfficeError)e;
            Console.Error.WriteLine("error: " + e.GetType().Name + " (" + error.Code + ", HTTP " + error.HttpStatus
                + ", ErrorType " + (error.ErrorType ?? "none") + "): " + e.Message);
            return 1;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return 1;
        }
    }

    private static string Env(string name, string fallback)
    {
        string value = Environment.GetEnvironmentVariable(name);
        return string.IsNullOrEmpty(value) ? fallback : value;
    }
}

using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace SuperOffice.Ffi
{
    /// <summary>
    /// A client for the SuperOffice WebAPI call
    /// <c>POST /api/v1/Agents/Person/SendCustomerCentrePasswordEmail</c>, over <c>libsuperoffice</c>.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Thread safety: one client may be used by many threads and tasks at once; they share
    /// one pool of keep-alive connections. Create one per base URL and credentials and keep
    /// it, rather than one per call. <see cref="Dispose"/> waits for nothing: calls already
    /// running finish first (the native client is freed after the last one returns), calls
    /// started afterwards throw <see cref="ObjectDisposedException"/>.
    /// </para>
    /// <para>
    /// The synchronous methods block. <see cref="SendCustomerCentrePasswordEmailAsync"/> and
    /// <see cref="SendManyAsync"/> hold no thread while they wait: the library sends on its
    /// own worker threads and completes the task from its callback. Their
    /// <see cref="CancellationToken"/> cancels the send itself, also while it is on the network.
    /// <see cref="Dispose"/> cancels the asynchronous sends still outstanding.
    /// </para>
    /// </remarks>
    public sealed partial class SuperOfficeClient : IDisposable
    {
        /// <summary>The first buffer of a tenant lookup; a longer URL is fetched again with the size the library reports.</summary>
        private const int LookupBuffer = 512;

        private readonly ClientHandle _handle;

        // Delegates handed to native code; also referenced from _handle (see ClientHandle.Callbacks).
        private readonly NativeMethods.CredentialsCallback _credentialsCallback;
        private readonly NativeMethods.LogCallback _logCallback;

        /// <summary>Creates a client; the settings are copied, <paramref name="options"/> may be reused.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="options"/> or its <c>BaseUrl</c> is <c>null</c>.</exception>
        /// <remarks>
        /// A client has one authentication scheme; the rule is the library's (see
        /// <c>superoffice.h</c>): a scheme set replaces the one set before. The options are set in
        /// the order <see cref="SuperOfficeClientOptions.Ticket"/>,
        /// <see cref="SuperOfficeClientOptions.BearerToken"/>, then Username/Password, so when
        /// several are set the last of those is used.
        /// </remarks>
        /// <exception cref="ArgumentException">A value contains a NUL character.</exception>
        /// <exception cref="SuperOfficeArgumentException">The library refused a setting (malformed URL, an international host name IDNA refuses, CR/LF in a header value, value out of range, ...); an <see cref="ArgumentException"/>.</exception>
        /// <exception cref="SuperOfficeException">The library could not create the client.</exception>
        public SuperOfficeClient(SuperOfficeClientOptions options)
        {
            if (options == null)
            {
                throw new ArgumentNullException("options");
            }
            if (options.BaseUrl == null)
            {
                throw new ArgumentNullException("options", "SuperOfficeClientOptions.BaseUrl is required.");
            }
            CheckNoNul(options);
            uint connectMs = SuperOfficeClientOptions.ToMilliseconds(options.ConnectTimeout, "ConnectTimeout");
            uint totalMs = SuperOfficeClientOptions.ToMilliseconds(options.Timeout, "Timeout");

            if (options.CredentialsCallback != null)
            {
                _credentialsCallback = MakeCredentialsCallback(options.CredentialsCallback, options.Log);
            }
            if (options.Log != null)
            {
                _logCallback = MakeLogCallback(options.Log);
            }

            using (OptionsHandle native = NativeMethods.so_options_new(options.BaseUrl))
            {
                if (native.IsInvalid)
                {
                    throw NativeMethods.LastErrorAfterNull();
                }
                SetIfGiven(native, options.Ticket, NativeMethods.so_options_set_ticket);
                SetIfGiven(native, options.BearerToken, NativeMethods.so_options_set_bearer_token);
                if (options.Username != null || options.Password != null)
                {
                    NativeMethods.Check(NativeMethods.so_options_set_basic_auth(native, options.Username, options.Password));
                }
                if (options.SystemUser != null && options.OAuthRefresh != null)
                {
                    throw new ArgumentException("Set SystemUser or OAuthRefresh, not both.", "options");
                }
                if (options.SystemUser != null)
                {
                    NativeMethods.Check(NativeMethods.so_options_set_system_user(native,
                        options.SystemUser.Token, options.SystemUser.PrivateKey, options.SystemUser.ClientSecret));
                }
                if (options.OAuthRefresh != null)
                {
                    NativeMethods.Check(NativeMethods.so_options_set_oauth_refresh(native,
                        options.OAuthRefresh.ClientId, options.OAuthRefresh.ClientSecret, options.OAuthRefresh.RefreshToken));
                }
                NativeMethods.Check(NativeMethods.so_options_set_shared_credentials(native, options.SharedCredentials ? 1 : 0));
                SetIfGiven(native, options.LoginUrl, NativeMethods.so_options_set_login_url);
                SetIfGiven(native, options.ContextIdentifier, NativeMethods.so_options_set_context_identifier);
                SetIfGiven(native, options.AppToken, NativeMethods.so_options_set_app_token);
                SetIfGiven(native, options.XsrfToken, NativeMethods.so_options_set_xsrf_token);
                SetIfGiven(native, options.Language, NativeMethods.so_options_set_language);
                SetIfGiven(native, options.Culture, NativeMethods.so_options_set_culture);
                SetIfGiven(native, options.TimeZone, NativeMethods.so_options_set_timezone);
                SetIfGiven(native, options.Select, NativeMethods.so_options_set_select);
                NativeMethods.Check(NativeMethods.so_options_set_timeout_ms(native, connectMs, totalMs));
                if (options.MaxRetries.HasValue)
                {
                    NativeMethods.Check(NativeMethods.so_options_set_max_retries(native, (uint)options.MaxRetries.Value));
                }
                if (options.MaxInFlight.HasValue)
                {
                    NativeMethods.Check(NativeMethods.so_options_set_max_in_flight(native, (uint)Math.Max(0, options.MaxInFlight.Value)));
                }
                SetIfGiven(native, options.CaFile, NativeMethods.so_options_set_ca_file);
                SetIfGiven(native, options.Proxy, NativeMethods.so_options_set_proxy);
                if (_credentialsCallback != null)
                {
                    NativeMethods.Check(NativeMethods.so_options_set_credentials_callback(native, _credentialsCallback, IntPtr.Zero));
                }
                if (_logCallback != null)
                {
                    NativeMethods.Check(NativeMethods.so_options_set_log_callback(native, _logCallback, IntPtr.Zero));
                }

                _handle = NativeMethods.so_client_new(native);
                if (_handle.IsInvalid)
                {
                    Exception error = NativeMethods.LastErrorAfterNull();
                    _handle.Dispose();
                    throw error;
                }
                _handle.Callbacks = new Delegate[] { _credentialsCallback, _logCallback };
            }
        }

        /// <summary>Sets a string option with <paramref name="setter"/> when it was given (not <c>null</c>).</summary>
        private static void SetIfGiven(OptionsHandle native, string value, Func<OptionsHandle, string, SuperOfficeResult> setter)
        {
            if (value != null)
            {
                NativeMethods.Check(setter(native, value));
            }
        }

        /// <summary>The version of the loaded native library, e.g. <c>"0.1.0"</c>.</summary>
        public static string NativeVersion
        {
            get { return Utf8.FromNative(NativeMethods.so_version()); }
        }

        /// <summary>
        /// Sends the Customer Centre password e-mail of <paramref name="personId"/>, built from the
        /// reply template. Blocks until the server answers (2xx) or the call fails.
        /// </summary>
        /// <param name="personId">The person; the library refuses 0 and negative ids (<see cref="SuperOfficeArgumentException"/>).</param>
        /// <param name="from">Sender's e-mail address; <c>null</c> sends JSON <c>null</c>.</param>
        /// <param name="to">Recipient's e-mail address; <c>null</c> sends JSON <c>null</c>.</param>
        /// <param name="subject">The e-mail's subject; <c>null</c> sends JSON <c>null</c>.</param>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        /// <exception cref="SuperOfficeArgumentException"><paramref name="personId"/> is 0 or negative, or another value was refused.</exception>
        /// <exception cref="SuperOfficeTimeoutException">The connect or total timeout expired.</exception>
        /// <exception cref="SuperOfficeException">The send failed otherwise; the subclass says how.</exception>
        public void SendCustomerCentrePasswordEmail(int personId, string from, string to, string subject)
        {
            ThrowIfDisposed();
            CheckSendArguments(from, to, subject);
            NativeMethods.Check(NativeMethods.so_send_cc_password_email(_handle, personId, from, to, subject));
        }

        /// <summary>
        /// The ids of the persons whose e-mail address is <paramref name="email"/> (trimmed, compared
        /// without regard to case; retired persons are not searched): SuperOffice's person search,
        /// <c>GET {base}/api/v1/Person</c>, every row of whose answer the library checks.
        /// </summary>
        /// <returns>The person ids; empty when no person has the address.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="email"/> is <c>null</c>.</exception>
        /// <exception cref="SuperOfficeArgumentException">The address has a control character, no <c>@</c>, or more than 254 characters.</exception>
        /// <exception cref="SuperOfficeIoException">The answer cannot be trusted: the server did not apply the e-mail filter, or its rows carry no e-mail column.</exception>
        /// <exception cref="SuperOfficeAmbiguousRecipientException">More than 50 persons have the address.</exception>
        /// <exception cref="SuperOfficeException">The search failed otherwise; the subclass says how.</exception>
        public IReadOnlyList<int> FindPersonIdsByEmail(string email)
        {
            ThrowIfDisposed();
            if (email == null)
            {
                throw new ArgumentNullException("email");
            }
            Utf8.ThrowIfHasNul(email, "email");
            var ids = new int[4];
            UIntPtr count;
            SuperOfficeResult result = NativeMethods.so_find_persons_by_email(_handle, email, ids, (UIntPtr)ids.Length, out count);
            if (result == SuperOfficeResult.BufferTooSmall)
            {
                // The library said how many it found: one more search with room for them.
                ids = new int[checked((int)count.ToUInt64())];
                result = NativeMethods.so_find_persons_by_email(_handle, email, ids, (UIntPtr)ids.Length, out count);
            }
            NativeMethods.Check(result);
            var found = new int[checked((int)count.ToUInt64())];
            Array.Copy(ids, found, found.Length);
            return found;
        }

        /// <summary>
        /// Sends the Customer Centre password e-mail of the one person whose e-mail address is
        /// <paramref name="to"/>, to that address: the search of <see cref="FindPersonIdsByEmail"/>, then the send
        /// of <see cref="SendCustomerCentrePasswordEmail"/>.
        /// </summary>
        /// <returns>The person id the e-mail was sent for.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="to"/> is <c>null</c>.</exception>
        /// <exception cref="SuperOfficeRecipientNotFoundException">No person has the address; nothing was sent.</exception>
        /// <exception cref="SuperOfficeAmbiguousRecipientException">Several persons have it (the message lists up to 10 ids); nothing was sent.</exception>
        /// <exception cref="SuperOfficeException">The search or the send failed otherwise.</exception>
        public int SendCustomerCentrePasswordEmailToAddress(string from, string to, string subject)
        {
            ThrowIfDisposed();
            if (to == null)
            {
                throw new ArgumentNullException("to");
            }
            CheckSendArguments(from, to, subject);
            int personId;
            NativeMethods.Check(NativeMethods.so_send_cc_password_email_to_address(_handle, from, to, subject, out personId));
            return personId;
        }

        /// <summary>
        /// Gets the credential now, without sending an e-mail: for a system user the login and the JWT check, for an
        /// OAuth refresh token the token request (or the credential another client of the same identity holds). Meant
        /// for start-up: a wrong key, secret, tenant or login service shows before the first e-mail. For a ticket,
        /// bearer token or Basic credentials it returns at once: there is nothing to obtain, and nothing is verified.
        /// </summary>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        /// <exception cref="SuperOfficeCredentialsException">No credential could be obtained; the message says which step failed.</exception>
        public void Authenticate()
        {
            ThrowIfDisposed();
            NativeMethods.Check(NativeMethods.so_client_authenticate(_handle));
        }

        /// <summary>
        /// Drops and wipes every credential the library obtained from the login service in this process (shared ones and
        /// each client's own): every client logs in again on its next send.
        /// </summary>
        public static void ForgetAllCredentials()
        {
            NativeMethods.so_credentials_forget_all();
        }

        /// <summary>
        /// Sends many e-mails at once, at most <paramref name="maxConcurrency"/> in parallel, over
        /// this client's connections. Blocks until every item has finished. A failed item does
        /// not stop the others; its outcome is in its <see cref="SendResult"/>.
        /// </summary>
        /// <returns>One result per item, in the items' order.</returns>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        /// <exception cref="ArgumentNullException"><paramref name="items"/> or one of them is <c>null</c>.</exception>
        /// <exception cref="SuperOfficeArgumentException">The library refused the whole batch, e.g. <paramref name="maxConcurrency"/> outside 1 to 64 (nothing was sent).</exception>
        /// <remarks><paramref name="progress"/> is reported on the calling thread, as items finish.</remarks>
        public IReadOnlyList<SendResult> SendMany(IReadOnlyList<SendItem> items, int maxConcurrency = 8,
            IProgress<BatchProgress> progress = null)
        {
            ThrowIfDisposed();
            CheckBatchArguments(items, maxConcurrency);
            return SendBatch(items, maxConcurrency, progress);
        }

        /// <summary>
        /// Finds the current API URL of an online tenant: <c>GET {stateEndpoint}/api/state/{customerId}</c>.
        /// </summary>
        /// <param name="customerId">The tenant, e.g. <c>"Cust12345"</c>.</param>
        /// <param name="stateEndpoint"><c>null</c>: <c>https://sod.superoffice.com</c>.</param>
        /// <returns>The tenant's <c>Api</c> URL, e.g. <c>https://sod2.superoffice.com/Cust12345/api</c>.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="customerId"/> is <c>null</c>.</exception>
        /// <exception cref="SuperOfficeTenantUnavailableException">The tenant is not running (maintenance, suspended).</exception>
        /// <exception cref="SuperOfficeException">The lookup failed otherwise.</exception>
        public static string LookupTenantApiUrl(string customerId, string stateEndpoint = null)
        {
            if (customerId == null)
            {
                throw new ArgumentNullException("customerId");
            }
            Utf8.ThrowIfHasNul(customerId, "customerId");
            Utf8.ThrowIfHasNul(stateEndpoint, "stateEndpoint");
            var buffer = new byte[LookupBuffer];
            UIntPtr needed;
            SuperOfficeResult result = NativeMethods.so_lookup_tenant_api_url_sized(
                stateEndpoint, customerId, buffer, (UIntPtr)buffer.Length, out needed);
            if (result == SuperOfficeResult.BufferTooSmall)
            {
                // The library said how much it needs: one more lookup with that (should the URL
                // have grown in between, that one fails with BufferTooSmall).
                buffer = new byte[checked((int)needed.ToUInt64())];
                result = NativeMethods.so_lookup_tenant_api_url_sized(
                    stateEndpoint, customerId, buffer, (UIntPtr)buffer.Length, out needed);
            }
            NativeMethods.Check(result);
            return Utf8.FromBuffer(buffer);
        }

        /// <summary><see cref="LookupTenantApiUrl"/> on the thread pool; cancellation only before it starts.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="customerId"/> is <c>null</c> (thrown at once).</exception>
        public static Task<string> LookupTenantApiUrlAsync(string customerId, string stateEndpoint = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (customerId == null)
            {
                throw new ArgumentNullException("customerId");
            }
            return Task.Run(() => LookupTenantApiUrl(customerId, stateEndpoint), cancellationToken);
        }

        /// <summary>
        /// Releases the native client. Safe to call more than once. Synchronous sends already
        /// running complete first; asynchronous sends still outstanding are cancelled (their
        /// tasks end with <see cref="SuperOfficeOperationCanceledException"/>) and every native
        /// callback has returned when it does. Later calls throw <see cref="ObjectDisposedException"/>.
        /// </summary>
        public void Dispose()
        {
            _handle.Dispose();
        }

        private void ThrowIfDisposed()
        {
            if (_handle.IsClosed)
            {
                throw new ObjectDisposedException(typeof(SuperOfficeClient).FullName);
            }
        }

        /// <summary>What .NET itself must check: a NUL would cut a C string. The library checks the rest.</summary>
        private static void CheckSendArguments(string from, string to, string subject)
        {
            Utf8.ThrowIfHasNul(from, "from");
            Utf8.ThrowIfHasNul(to, "to");
            Utf8.ThrowIfHasNul(subject, "subject");
        }

        private static void CheckBatchArguments(IReadOnlyList<SendItem> items, int maxConcurrency)
        {
            if (items == null)
            {
                throw new ArgumentNullException("items");
            }
            for (int i = 0; i < items.Count; i++)
            {
                SendItem item = items[i];
                if (item == null)
                {
                    throw new ArgumentNullException("items", "items[" + i + "] is null.");
                }
                Utf8.ThrowIfAnyHasNul("items", item.From, item.To, item.Subject);
            }
        }

        private static void CheckNoNul(SuperOfficeClientOptions o)
        {
            Utf8.ThrowIfAnyHasNul("options", o.BaseUrl, o.Ticket, o.BearerToken, o.Username, o.Password, o.AppToken,
                o.LoginUrl, o.ContextIdentifier);
            if (o.SystemUser != null)
            {
                Utf8.ThrowIfAnyHasNul("options", o.SystemUser.Token, o.SystemUser.PrivateKey, o.SystemUser.ClientSecret);
            }
            if (o.OAuthRefresh != null)
            {
                Utf8.ThrowIfAnyHasNul("options", o.OAuthRefresh.ClientId, o.OAuthRefresh.ClientSecret, o.OAuthRefresh.RefreshToken);
            }
            Utf8.ThrowIfAnyHasNul("options", o.XsrfToken, o.Language, o.Culture, o.TimeZone, o.Select, o.CaFile, o.Proxy);
        }

        /// <summary>Marshals the batch, calls the library once, copies the results, always clears them.</summary>
        private IReadOnlyList<SendResult> SendBatch(IReadOnlyList<SendItem> items, int maxConcurrency,
            IProgress<BatchProgress> progress)
        {
            int count = items.Count;
            if (count == 0)
            {
                return new SendResult[0];
            }
            var nativeItems = new NativeMethods.BatchItem[count];
            var nativeResults = new NativeMethods.BatchResult[count];
            var pins = new List<GCHandle>(count * 3 + 2);
            NativeMethods.ProgressCallback progressCallback = null;
            if (progress != null)
            {
                progressCallback = (userdata, done, total) =>
                {
                    try
                    {
                        progress.Report(new BatchProgress((long)done.ToUInt64(), (long)total.ToUInt64()));
                    }
                    catch (Exception)
                    {
                        // An exception must not unwind into native code.
                    }
                };
            }
            try
            {
                for (int i = 0; i < count; i++)
                {
                    SendItem item = items[i];
                    nativeItems[i].PersonId = item.PersonId;
                    nativeItems[i].From = Pin(item.From, pins);
                    nativeItems[i].To = Pin(item.To, pins);
                    nativeItems[i].Subject = Pin(item.Subject, pins);
                }
                GCHandle itemsPin = GCHandle.Alloc(nativeItems, GCHandleType.Pinned);
                pins.Add(itemsPin);
                GCHandle resultsPin = GCHandle.Alloc(nativeResults, GCHandleType.Pinned);
                pins.Add(resultsPin);
                IntPtr results = resultsPin.AddrOfPinnedObject();

                var list = new SendResult[count];
                try
                {
                    // A negative maxConcurrency becomes a huge one, which the library refuses.
                    UIntPtr failed;
                    var deliveries = new int[count];
                    SuperOfficeResult batchResult = NativeMethods.so_send_cc_password_email_batch_with_deliveries(
                        _handle, itemsPin.AddrOfPinnedObject(), (UIntPtr)count, unchecked((uint)maxConcurrency),
                        progressCallback, IntPtr.Zero, results, deliveries, out failed);
                    // Anything but Ok: the library refused the batch and sent nothing.
                    NativeMethods.Check(batchResult);
                    for (int i = 0; i < count; i++)
                    {
                        NativeMethods.BatchResult r = nativeResults[i];
                        list[i] = new SendResult(i, r.Code, r.HttpStatus, Utf8.FromNative(r.Message), Utf8.FromNative(r.ErrorType),
                            Deliveries.FromNative(deliveries[i]));
                    }
                }
                finally
                {
                    // Safe whatever the batch returned: the library initialises every slot.
                    NativeMethods.so_batch_results_clear(results, (UIntPtr)count);
                }
                return list;
            }
            finally
            {
                foreach (GCHandle pin in pins)
                {
                    pin.Free();
                }
                GC.KeepAlive(progressCallback);
            }
        }

        private static IntPtr Pin(string value, List<GCHandle> pins)
        {
            byte[] bytes = Utf8.ToNulTerminated(value);
            if (bytes == null)
            {
                return IntPtr.Zero;
            }
            GCHandle pin = GCHandle.Alloc(bytes, GCHandleType.Pinned);
            pins.Add(pin);
            return pin.AddrOfPinnedObject();
        }

        private static NativeMethods.CredentialsCallback MakeCredentialsCallback(Func<string> fresh, Action<int, string> log)
        {
            return (userdata, buffer, bufferLength) =>
            {
                try
                {
                    string credential = fresh();
                    if (string.IsNullOrEmpty(credential))
                    {
                        return 0;
                    }
                    byte[] bytes = Encoding.UTF8.GetBytes(credential);
                    if ((ulong)bytes.Length > bufferLength.ToUInt64())
                    {
                        Report(log, SuperOfficeLogLevel.Error,
                            "CredentialsCallback returned " + bytes.Length + " bytes, more than the " + bufferLength + " allowed; ignored.");
                        return 0;
                    }
                    Marshal.Copy(bytes, 0, buffer, bytes.Length);
                    return bytes.Length;
                }
                catch (Exception e)
                {
                    // An exception must not unwind into native code.
                    Report(log, SuperOfficeLogLevel.Error, "CredentialsCallback threw " + e.GetType().Name + ": " + e.Message);
                    return 0;
                }
            };
        }

        private static NativeMethods.LogCallback MakeLogCallback(Action<int, string> log)
        {
            return (userdata, level, message) => Report(log, level, Utf8.FromNative(message));
        }

        private static void Report(Action<int, string> log, int level, string message)
        {
            if (log == null)
            {
                return;
            }
            try
            {
                log(level, message);
            }
            catch (Exception)
            {
                // An exception must not unwind into native code.
            }
        }
    }
}

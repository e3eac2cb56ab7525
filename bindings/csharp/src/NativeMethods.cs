using System;
using System.Runtime.InteropServices;

namespace SuperOffice.Ffi
{
    /// <summary>
    /// Every P/Invoke declaration of <c>libsuperoffice</c> (the C ABI contract plus its
    /// extensions), mirroring <c>include/superoffice.h</c>. Nothing else calls native code.
    /// </summary>
    /// <remarks>
    /// Strings go in as UTF-8 (<see cref="UnmanagedType.LPUTF8Str"/>; <c>null</c> becomes
    /// <c>NULL</c>). Returned <c>const char*</c> are owned by the library and come back as
    /// <see cref="IntPtr"/>, decoded by <see cref="Utf8.FromNative"/>.
    /// </remarks>
    internal static partial class NativeMethods
    {
        /// <summary>Resolved as <c>libsuperoffice.so</c> / <c>libsuperoffice.dylib</c> / <c>superoffice.dll</c>.</summary>
        internal const string Library = "superoffice";

        // ----- callbacks -------------------------------------------------------------

        /// <summary><c>so_credentials_callback</c>: write a fresh ticket or token, return its length (0 or less: none).</summary>
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int CredentialsCallback(IntPtr userdata, IntPtr buffer, UIntPtr bufferLength);

        /// <summary><c>so_log_callback</c>: <paramref name="message"/> is valid only during the call.</summary>
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void LogCallback(IntPtr userdata, int level, IntPtr message);

        /// <summary><c>so_progress_callback</c>.</summary>
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void ProgressCallback(IntPtr userdata, UIntPtr done, UIntPtr total);

        // ----- batch structs ---------------------------------------------------------

        /// <summary><c>so_batch_item</c>; the strings are pinned NUL-terminated UTF-8 buffers (or NULL).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct BatchItem
        {
            internal int PersonId;
            internal IntPtr From;
            internal IntPtr To;
            internal IntPtr Subject;
        }

        /// <summary><c>so_batch_result</c>; the strings are owned by the library until <c>so_batch_results_clear</c>.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct BatchResult
        {
            internal SuperOfficeResult Code;
            internal int HttpStatus;
            internal IntPtr Message;
            internal IntPtr ErrorType;
        }

        // ----- settings --------------------------------------------------------------

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern OptionsHandle so_options_new([MarshalAs(UnmanagedType.LPUTF8Str)] string baseUrl);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_basic_auth(OptionsHandle options,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string username,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string password);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_ticket(OptionsHandle options,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string ticket);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_bearer_token(OptionsHandle options,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string accessToken);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_system_user(OptionsHandle options,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string systemUserToken,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string privateKey,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string clientSecret);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_oauth_refresh(OptionsHandle options,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string clientId,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string clientSecret,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string refreshToken);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_login_url(OptionsHandle options,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string url);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_shared_credentials(OptionsHandle options, int shared);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_context_identifier(OptionsHandle options,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string contextIdentifier);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_app_token(OptionsHandle options,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string appToken);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_xsrf_token(OptionsHandle options,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string xsrfToken);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_language(OptionsHandle options,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string language);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_culture(OptionsHandle options,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string culture);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_timezone(OptionsHandle options,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string timeZone);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_select(OptionsHandle options,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string select);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_timeout_ms(OptionsHandle options,
            uint connectMs, uint totalMs);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_max_retries(OptionsHandle options, uint maxRetries);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_ca_file(OptionsHandle options,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string pemPath);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_proxy(OptionsHandle options,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string proxyUrl);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_credentials_callback(OptionsHandle options,
            CredentialsCallback callback, IntPtr userdata);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_options_set_log_callback(OptionsHandle options,
            LogCallback callback, IntPtr userdata);

        /// <summary>Called only by <see cref="OptionsHandle.ReleaseHandle"/>. NULL is a no-op.</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void so_options_free(IntPtr options);

        // ----- client ----------------------------------------------------------------

        /// <summary>Copies what it needs; the options stay the caller's.</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern ClientHandle so_client_new(OptionsHandle options);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_send_cc_password_email(ClientHandle client, int personId,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string from,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string to,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string subject);

        /// <summary>Sized call: on <c>Ok</c> the ids are written and <paramref name="count"/> is their number; on
        /// <c>BufferTooSmall</c> nothing is written and <paramref name="count"/> is the number found.</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_find_persons_by_email(ClientHandle client,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string email,
            [Out] int[] personIds, UIntPtr capacity, out UIntPtr count);

        /// <summary><paramref name="personId"/> is written before the e-mail request (0 when no single person was found).</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_send_cc_password_email_to_address(ClientHandle client,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string from,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string to,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string subject,
            out int personId);

        /// <summary>
        /// <c>Ok</c> when the batch ran (<paramref name="failed"/> items failed, each with its
        /// result); any other code: the batch was refused, nothing was sent. Every result slot
        /// is initialised by the library, so clearing them is always safe.
        /// </summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_send_cc_password_email_batch(ClientHandle client,
            IntPtr items, UIntPtr count, uint maxConcurrency,
            ProgressCallback progress, IntPtr userdata, IntPtr results, out UIntPtr failed);

        /// <summary>The first batch function (its code cannot tell a refused batch from failed items); unused.</summary>
        /// <summary><see cref="so_send_cc_password_email_batch"/>, also writing each item's
        /// <c>so_delivery</c> into <paramref name="deliveries"/> (an array of <c>count</c> int32).</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_send_cc_password_email_batch_with_deliveries(ClientHandle client,
            IntPtr items, UIntPtr count, uint maxConcurrency,
            ProgressCallback progress, IntPtr userdata, IntPtr results, [Out] int[] deliveries, out UIntPtr failed);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_send_cc_password_emails(ClientHandle client,
            IntPtr items, UIntPtr count, uint maxConcurrency, IntPtr results);

        /// <summary>The first batch function with progress; unused.</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_send_cc_password_emails_with_progress(ClientHandle client,
            IntPtr items, UIntPtr count, uint maxConcurrency,
            ProgressCallback progress, IntPtr userdata, IntPtr results);

        /// <summary>Frees the strings of <paramref name="count"/> results and sets them NULL. NULL is a no-op.</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void so_batch_results_clear(IntPtr results, UIntPtr count);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_client_authenticate(ClientHandle client);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void so_credentials_forget_all();

        /// <summary>Called only by <see cref="ClientHandle.ReleaseHandle"/>. NULL is a no-op.</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void so_client_free(IntPtr client);

        // ----- tenant lookup ---------------------------------------------------------

        /// <summary><paramref name="needed"/>: the bytes the URL needs, NUL included (on Ok and BufferTooSmall).</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_lookup_tenant_api_url_sized(
            [MarshalAs(UnmanagedType.LPUTF8Str)] string stateEndpoint,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string customerId,
            [Out] byte[] urlOut, UIntPtr urlOutLength, out UIntPtr needed);

        /// <summary>The first lookup (the size only in the message); unused.</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_lookup_tenant_api_url(
            [MarshalAs(UnmanagedType.LPUTF8Str)] string stateEndpoint,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string customerId,
            [Out] byte[] urlOut, UIntPtr urlOutLength);

        // ----- errors and version ----------------------------------------------------

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr so_last_error_message();

        /// <summary>The code of this thread's last failure; used after the functions that return NULL.</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern SuperOfficeResult so_last_error_code();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int so_last_error_http_status();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr so_last_error_type();

        /// <summary><c>so_last_delivery</c>: the delivery of this thread's last send.</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int so_last_delivery();

        /// <summary><c>so_may_have_been_sent</c>: the library's rule.</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int so_may_have_been_sent(int delivery, int httpStatus);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr so_result_str(SuperOfficeResult result);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr so_version();

        // ----- the one place where codes become exceptions ---------------------------

        /// <summary>
        /// Throws the exception for <paramref name="result"/> unless it is <see cref="SuperOfficeResult.Ok"/>.
        /// Must be called on the thread that made the failing call, before any other <c>so_*</c>
        /// call, because it reads that thread's last error.
        /// </summary>
        internal static void Check(SuperOfficeResult result)
        {
            if (result != SuperOfficeResult.Ok)
            {
                throw LastError(result);
            }
        }

        /// <summary>Builds the exception for <paramref name="result"/> from this thread's last error.</summary>
        internal static Exception LastError(SuperOfficeResult result)
        {
            string message = Utf8.FromNative(so_last_error_message());
            int httpStatus = so_last_error_http_status();
            string errorType = Utf8.FromNative(so_last_error_type());
            SuperOfficeDelivery delivery = Deliveries.FromNative(so_last_delivery());
            return SuperOfficeException.Create(result, httpStatus, message, errorType, delivery);
        }

        /// <summary>
        /// The exception for a function that returned NULL (<c>so_options_new</c>,
        /// <c>so_client_new</c>): its code comes from <c>so_last_error_code</c>. Same thread,
        /// right after the call, like <see cref="Check"/>.
        /// </summary>
        internal static Exception LastErrorAfterNull()
        {
            SuperOfficeResult code = so_last_error_code();
            return LastError(code == SuperOfficeResult.Ok ? SuperOfficeResult.Panic : code);
        }

        /// <summary>The library's static text for a code.</summary>
        internal static string ResultText(SuperOfficeResult result)
        {
            return Utf8.FromNative(so_result_str(result)) ?? result.ToString();
        }
    }
}

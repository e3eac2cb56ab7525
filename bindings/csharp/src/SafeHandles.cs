using System;
using System.Runtime.InteropServices;

namespace SuperOffice.Ffi
{
    /// <summary>Owns one native <c>so_options</c>; releasing it calls <c>so_options_free</c>.</summary>
    /// <remarks>Not thread-safe, like the native builder: used by one thread, then freed.</remarks>
    internal sealed class OptionsHandle : SafeHandle
    {
        /// <summary>Used by the marshaller when <c>so_options_new</c> returns.</summary>
        public OptionsHandle()
            : base(IntPtr.Zero, true)
        {
        }

        /// <inheritdoc/>
        public override bool IsInvalid
        {
            get { return handle == IntPtr.Zero; }
        }

        /// <inheritdoc/>
        protected override bool ReleaseHandle()
        {
            NativeMethods.so_options_free(handle);
            return true;
        }
    }

    /// <summary>Owns one native <c>so_client</c>; releasing it calls <c>so_client_free</c>.</summary>
    /// <remarks>
    /// The native client is safe to share between threads. Passing this handle to a P/Invoke
    /// adds a reference for the duration of the call, so a concurrent <c>Dispose</c> frees the
    /// client only after every in-flight call has returned.
    /// </remarks>
    internal sealed class ClientHandle : SafeHandle
    {
        /// <summary>Used by the marshaller when <c>so_client_new</c> returns.</summary>
        public ClientHandle()
            : base(IntPtr.Zero, true)
        {
        }

        /// <summary>
        /// Delegates handed to native code (credentials and log callbacks). Held here so that
        /// they stay alive for as long as the native client that may call them, including
        /// during <see cref="ReleaseHandle"/> when the handle is finalized.
        /// </summary>
        internal Delegate[] Callbacks;

        /// <inheritdoc/>
        public override bool IsInvalid
        {
            get { return handle == IntPtr.Zero; }
        }

        /// <inheritdoc/>
        protected override bool ReleaseHandle()
        {
            NativeMethods.so_client_free(handle);
            GC.KeepAlive(Callbacks);
            return true;
        }
    }
}

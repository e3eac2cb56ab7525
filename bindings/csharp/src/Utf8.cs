using System;
using System.Runtime.InteropServices;
using System.Text;

namespace SuperOffice.Ffi
{
    /// <summary>UTF-8 helpers for strings crossing the C ABI (netstandard2.0 has no <c>Marshal.PtrToStringUTF8</c>).</summary>
    internal static class Utf8
    {
        /// <summary>Decodes a NUL-terminated UTF-8 string owned by the library; <c>NULL</c> gives <c>null</c>.</summary>
        internal static string FromNative(IntPtr text)
        {
            if (text == IntPtr.Zero)
            {
                return null;
            }
            int length = 0;
            while (Marshal.ReadByte(text, length) != 0)
            {
                length++;
            }
            if (length == 0)
            {
                return string.Empty;
            }
            var bytes = new byte[length];
            Marshal.Copy(text, bytes, 0, length);
            return Encoding.UTF8.GetString(bytes);
        }

        /// <summary>Decodes <paramref name="buffer"/> up to its first NUL (or its end).</summary>
        internal static string FromBuffer(byte[] buffer)
        {
            int length = Array.IndexOf(buffer, (byte)0);
            if (length < 0)
            {
                length = buffer.Length;
            }
            return Encoding.UTF8.GetString(buffer, 0, length);
        }

        /// <summary>The NUL-terminated UTF-8 bytes of <paramref name="value"/>, or <c>null</c> for <c>null</c>.</summary>
        internal static byte[] ToNulTerminated(string value)
        {
            if (value == null)
            {
                return null;
            }
            var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
            Encoding.UTF8.GetBytes(value, 0, value.Length, bytes, 0);
            return bytes;
        }

        /// <summary>
        /// A C string ends at its first NUL, so a managed string holding one would be cut short
        /// silently on its way in; refuse it instead. Everything else is validated by the library.
        /// </summary>
        internal static void ThrowIfHasNul(string value, string paramName)
        {
            if (value != null && value.IndexOf('\0') >= 0)
            {
                throw new ArgumentException("The value must not contain a NUL character.", paramName);
            }
        }

        /// <summary><see cref="ThrowIfHasNul(string, string)"/> for each value, in order.</summary>
        internal static void ThrowIfAnyHasNul(string paramName, params string[] values)
        {
            foreach (string value in values)
            {
                ThrowIfHasNul(value, paramName);
            }
        }
    }
}

namespace SuperOffice.Ffi
{
    /// <summary>
    /// Whether the server may have a send's request (<c>so_delivery</c>, with the same numbers):
    /// the one fact needed to keep sends exactly-once. Every <see cref="ISuperOfficeError"/>
    /// has one (<see cref="ISuperOfficeError.Delivery"/>), as does every <see cref="SendResult"/>.
    /// </summary>
    public enum SuperOfficeDelivery
    {
        /// <summary><c>SO_DELIVERY_NONE</c>: the failing call sends no e-mail (a setting, a lookup).</summary>
        None = 0,
        /// <summary><c>SO_DELIVERY_NOT_SENT</c>: the server provably never had the request (an argument
        /// error, no credential, no connection, a connect timeout, a refused certificate, a send
        /// cancelled before it started): safe to send again.</summary>
        NotSent = 1,
        /// <summary><c>SO_DELIVERY_UNKNOWN</c>: the request may have been read and processed (a reset or
        /// closed connection, an answer timeout, an answer that is not HTTP, a send cancelled on the network).</summary>
        Unknown = 2,
        /// <summary><c>SO_DELIVERY_ANSWERED</c>: the server answered with an HTTP status.</summary>
        Answered = 3,
    }

    /// <summary>The library's rule for <see cref="ISuperOfficeError.MayHaveBeenSent"/>.</summary>
    internal static class Deliveries
    {
        /// <summary>
        /// <c>so_may_have_been_sent</c>: true for <see cref="SuperOfficeDelivery.Unknown"/> and an
        /// answered 2xx or 5xx other than 503; false for <see cref="SuperOfficeDelivery.NotSent"/>,
        /// <see cref="SuperOfficeDelivery.None"/>, 3xx, 4xx (429 included) and 503.
        /// </summary>
        internal static bool MayHaveBeenSent(SuperOfficeDelivery delivery, int httpStatus)
        {
            if (delivery == SuperOfficeDelivery.None || delivery == SuperOfficeDelivery.NotSent)
            {
                return false;
            }
            return NativeMethods.so_may_have_been_sent((int)delivery, httpStatus) != 0;
        }

        /// <summary>A native value as the enum (a value this binding does not know counts as Unknown).</summary>
        internal static SuperOfficeDelivery FromNative(int value)
        {
            return value >= 0 && value <= 3 ? (SuperOfficeDelivery)value : SuperOfficeDelivery.Unknown;
        }
    }
}

using System;

namespace SuperOffice.Ffi
{
    /// <summary>One e-mail of a batch sent with <see cref="SuperOfficeClient.SendManyAsync"/>.</summary>
    public sealed class SendItem
    {
        /// <summary>Creates an item; <c>null</c> strings are sent as JSON <c>null</c>.</summary>
        public SendItem(int personId, string from, string to, string subject)
        {
            PersonId = personId;
            From = from;
            To = to;
            Subject = subject;
        }

        /// <summary>The person whose Customer Centre password e-mail is sent.</summary>
        public int PersonId { get; private set; }

        /// <summary>Sender's e-mail address.</summary>
        public string From { get; private set; }

        /// <summary>Recipient's e-mail address.</summary>
        public string To { get; private set; }

        /// <summary>The e-mail's subject.</summary>
        public string Subject { get; private set; }
    }

    /// <summary>The outcome of one <see cref="SendItem"/>, at the same index as the item.</summary>
    public sealed class SendResult
    {
        /// <summary>Creates a result (its delivery <see cref="SuperOfficeDelivery.None"/>: not known).</summary>
        public SendResult(int index, SuperOfficeResult code, int httpStatus, string message, string errorType)
            : this(index, code, httpStatus, message, errorType, SuperOfficeDelivery.None)
        {
        }

        /// <summary>Creates a result with its delivery.</summary>
        public SendResult(int index, SuperOfficeResult code, int httpStatus, string message, string errorType,
            SuperOfficeDelivery delivery)
        {
            Index = index;
            Code = code;
            HttpStatus = httpStatus;
            Message = message;
            ErrorType = string.IsNullOrEmpty(errorType) ? null : errorType;
            Delivery = delivery;
        }

        /// <summary>Whether the server may have the item's request (<see cref="SuperOfficeDelivery.Answered"/> on success).</summary>
        public SuperOfficeDelivery Delivery { get; private set; }

        /// <summary>Whether the item's e-mail may have gone out (the library's rule, as
        /// <see cref="ISuperOfficeError.MayHaveBeenSent"/>; true on success).</summary>
        public bool MayHaveBeenSent
        {
            get { return Deliveries.MayHaveBeenSent(Delivery, HttpStatus); }
        }

        /// <summary>Index of the item in the list passed in.</summary>
        public int Index { get; private set; }

        /// <summary><see cref="SuperOfficeResult.Ok"/> or the item's failure.</summary>
        public SuperOfficeResult Code { get; private set; }

        /// <summary>The HTTP status of the answer, 0 when there was no HTTP answer.</summary>
        public int HttpStatus { get; private set; }

        /// <summary>The failure's message; <c>null</c> on success.</summary>
        public string Message { get; private set; }

        /// <summary>The server's <c>ErrorType</c>; <c>null</c> when it sent none.</summary>
        public string ErrorType { get; private set; }

        /// <summary>Whether the server answered 2xx.</summary>
        public bool Success
        {
            get { return Code == SuperOfficeResult.Ok; }
        }

        /// <summary>
        /// The exception a single send would have thrown for this outcome (an
        /// <see cref="ISuperOfficeError"/>); <c>null</c> on success.
        /// </summary>
        public Exception ToException()
        {
            return Success ? null : SuperOfficeException.Create(Code, HttpStatus, Message, ErrorType, Delivery);
        }

        /// <inheritdoc/>
        public override string ToString()
        {
            return Success
                ? "#" + Index + ": OK" + (HttpStatus != 0 ? " (" + HttpStatus + ")" : "")
                : "#" + Index + ": " + Code + " (HTTP " + HttpStatus + ", " + (ErrorType ?? "-") + "): " + Message;
        }
    }

    /// <summary>Progress of a batch: <see cref="Done"/> of <see cref="Total"/> items finished.</summary>
    public struct BatchProgress
    {
        /// <summary>Creates a progress report.</summary>
        public BatchProgress(long done, long total)
            : this()
        {
            Done = done;
            Total = total;
        }

        /// <summary>Items finished (successfully or not).</summary>
        public long Done { get; private set; }

        /// <summary>Items in the batch.</summary>
        public long Total { get; private set; }

        /// <inheritdoc/>
        public override string ToString()
        {
            return Done + "/" + Total;
        }
    }
}

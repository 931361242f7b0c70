"""The CCASS/CCMS Terminal's Online Functions menu (App. C step n screenshot).

The functions themselves are outside this simulation: each says "Function not
available", as the terminal did during the connectivity test (App. B).
"""

from django.utils.text import slugify

ONLINE_FUNCTIONS = (
    "General Enquiries",
    "New Settlement Act / Status",
    "Delivery Instruction (DI)",
    "A/C Transfer Inquiry (ATI)",
    "Settlement Instruction (SI)",
    "Investor Status Inquiry (ISI)",
    "BS Counterparty List",
    "Payment Instruction",
    "Cash Payments",
    "Stock Borrowing / Lending",
    "BSL Bulletin Board",
    "General Stock Collateral",
    "Margin Withdrawal Order",
    "Reaction Instruction",
    "Business Option Instruction",
    "Corp Voting Instruction",
    "IPO Application",
    "Transfer Instruction",
    "Corp Communication",
    "Revised Batch File",
    "Report Profile Maintenance",
    "View Circular",
    "Maintain Broadcast Message",
)

FUNCTIONS_BY_SLUG = {slugify(name): name for name in ONLINE_FUNCTIONS}

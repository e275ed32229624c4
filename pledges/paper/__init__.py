"""Paper sign-up sheets: print, enter the rows signed on them, check their scans."""

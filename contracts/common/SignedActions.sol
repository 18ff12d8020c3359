// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/**
 * @title SignedActions
 * @notice Base for contracts whose every act is an EIP-712 signature by the acting
 * member, relayed by the platform so that members need no funded account.
 * @dev The domain binds chain id and contract address (OpenZeppelin EIP712); each
 * signer has one sequential nonce per contract (OpenZeppelin Nonces), so a signature
 * is good once, on one chain, for one contract, before its deadline.
 */
abstract contract SignedActions is EIP712, Nonces {
    /// @dev The signature's deadline has passed.
    error SignatureExpired(uint256 deadline, uint256 timestamp);

    /// @dev The signature was not made by the member it claims to come from.
    error InvalidSigner(address expected, address recovered);

    constructor(string memory name, string memory version) EIP712(name, version) {}

    /**
     * @dev Checks deadline, nonce and signature of an action whose EIP-712 struct hash
     * is `structHash` (which must include `nonce` and `deadline`), and consumes the nonce.
     */
    function _useSignature(
        address signer,
        bytes32 structHash,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) internal {
        if (block.timestamp > deadline) revert SignatureExpired(deadline, block.timestamp);
        _useCheckedNonce(signer, nonce);
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecover(
            _hashTypedDataV4(structHash),
            signature
        );
        if (err != ECDSA.RecoverError.NoError || recovered != signer) {
            revert InvalidSigner(signer, recovered);
        }
    }
}
